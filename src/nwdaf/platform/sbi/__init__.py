"""SBI scaffolding shared by every NF: app factory, ProblemDetails, h2c server, outbound client and retry policy."""

from nwdaf.platform.sbi.app import create_sbi_app
from nwdaf.platform.sbi.client import SbiCallError, SbiClient
from nwdaf.platform.sbi.problem import PROBLEM_JSON, InvalidParam, ProblemError
from nwdaf.platform.sbi.retry import RetryPolicy, with_retries
from nwdaf.platform.sbi.server import RunningServer, start_server

__all__ = [
    "PROBLEM_JSON",
    "InvalidParam",
    "ProblemError",
    "RetryPolicy",
    "RunningServer",
    "SbiCallError",
    "SbiClient",
    "create_sbi_app",
    "start_server",
    "with_retries",
]
