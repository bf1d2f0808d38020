"""Training of the MTLF's models: dataset assembly, group-aware CV, resampling, candidates, calibration, report."""

from nwdaf.nf.mtlf.train.dataset import DatasetError, TrainingSet
from nwdaf.nf.mtlf.train.evaluate import evaluate, load_bundle
from nwdaf.nf.mtlf.train.result import TrainResult
from nwdaf.nf.mtlf.train.run import train
from nwdaf.nf.mtlf.train.search import CandidateScore

__all__ = ["CandidateScore", "DatasetError", "TrainResult", "TrainingSet", "evaluate", "load_bundle", "train"]
