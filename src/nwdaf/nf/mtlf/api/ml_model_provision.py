"""Nnwdaf_MLModelProvision (TS 29.520 clause 5.4), mounted at ``/nnwdaf-mlmodelprovision/v1``.

Besides the three 3GPP operations, ``GET /models/{name}/versions/{version}/artifact`` serves the model file that
``mLFileAddr.mLModelUrl`` points to (not a 3GPP resource: TS 29.520 leaves the file transfer open).
"""

from __future__ import annotations

import base64

import orjson
from fastapi import APIRouter, Request, Response

from nwdaf.nf.mtlf.processor import API_ROOT, SPEC_FILE, ModelProvision, registry_problem
from nwdaf.nf.mtlf.registry import RegistryError
from nwdaf.platform.models.common import to_wire
from nwdaf.platform.models.ml_provision import NwdafMLModelProvSubsc
from nwdaf.platform.sbi.body import SchemaValidator, read_model
from nwdaf.platform.sbi.docs import body_doc, route_docs
from nwdaf.platform.sbi.problem import ProblemError

__all__ = ["API_ROOT", "create_router"]

SHA256_HEADER = "x-nwdaf-model-sha256"
VERSION_HEADER = "x-nwdaf-model-version"
NAME_HEADER = "x-nwdaf-model-name"
SUBSCRIPTION_SCHEMA = f"{SPEC_FILE}#/components/schemas/NwdafMLModelProvSubsc"

_BODY_DOC = (
    "Body: `NwdafMLModelProvSubsc` (TS29520_Nnwdaf_MLModelProvision.yaml), validated against the YAML. Each "
    "`mLEventSubscs` entry is matched on `mLEvent`, `mLEventFilter.excepIds` (and `snssais`/`dnns` for models "
    "tagged with them) and `mlEvRepCon.mlAccuracyThreshold` against the registry's champion models. With "
    "`eventReq.immRep` true the model addresses come back in `mLEventNotifs`, otherwise they are POSTed to "
    "`notifUri` right away. Events without a model are listed in `failEventReports` (`UNAVAILABLE_ML_MODEL`); "
    "the subscription stays and is notified when a matching model is promoted."
)


def _json(body: NwdafMLModelProvSubsc, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(to_wire(body)), status_code=status, media_type="application/json",
                    headers=headers)


def create_router(provision: ModelProvision, validator: SchemaValidator | None) -> APIRouter:
    router = APIRouter(tags=["Nnwdaf_MLModelProvision"])

    async def read_subscription(request: Request) -> NwdafMLModelProvSubsc:
        """The body as ``NwdafMLModelProvSubsc``, checked against the YAML (when available) and the model."""
        return await read_model(request, NwdafMLModelProvSubsc, validator=validator, schema=SUBSCRIPTION_SCHEMA)

    @router.post("/subscriptions", status_code=201, summary="CreateNWDAFMLModelProvisionSubcription",
                 description=_BODY_DOC, **route_docs(body=body_doc(NwdafMLModelProvSubsc)))
    async def create_subscription(request: Request) -> Response:
        body = await read_subscription(request)
        sub_id, answer = await provision.subscribe(body)
        location = f"{str(request.url).split('?')[0].rstrip('/')}/{sub_id}"
        return _json(answer, 201, {"Location": location})

    @router.put("/subscriptions/{subscriptionId}", summary="UpdateNWDAFMLModelProvisionSubcription",
                description=_BODY_DOC + " Replaces the subscription; 404 if it does not exist.",
                **route_docs(404, body=body_doc(NwdafMLModelProvSubsc)))
    async def update_subscription(subscriptionId: str, request: Request) -> Response:
        body = await read_subscription(request)
        return _json(await provision.update(subscriptionId, body), 200)

    @router.delete("/subscriptions/{subscriptionId}", status_code=204,
                   summary="DeleteNWDAFMLModelProvisionSubcription", **route_docs(404))
    async def delete_subscription(subscriptionId: str) -> Response:
        await provision.unsubscribe(subscriptionId)
        return Response(status_code=204)

    _artifact_route(router, provision)
    return router


def _artifact_route(router: APIRouter, provision: ModelProvision) -> None:
    """``GET .../artifact``: the model file an ``mLModelUrl`` points at."""

    @router.get(
        "/models/{name}/versions/{version}/artifact",
        summary="Download a provisioned ML model file (mLModelUrl target, not a 3GPP resource)",
        description="The skops file of a registered model version. `Repr-Digest` (RFC 9530) and "
        f"`{SHA256_HEADER}` carry its sha256; with `?sha256=` (as in `mLModelUrl`) a different artifact is 404.",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}, **route_docs(404)["responses"]},
    )
    async def download_artifact(name: str, version: str, sha256: str | None = None) -> Response:
        try:
            data, info = await provision.artifact(name, version)
        except RegistryError as exc:
            raise registry_problem(exc) from exc
        if sha256 is not None and sha256.lower() != info.sha256:
            raise ProblemError(404, "Not Found", f"{name} version {version} has sha256 {info.sha256}, not {sha256}",
                               "RESOURCE_NOT_FOUND")
        digest = base64.b64encode(bytes.fromhex(info.sha256)).decode()
        headers = {"Repr-Digest": f"sha-256=:{digest}:", SHA256_HEADER: info.sha256, NAME_HEADER: info.name,
                   VERSION_HEADER: info.version, "ETag": f'"{info.sha256}"',
                   "Content-Disposition": f'attachment; filename="{info.name}-{info.version}.skops"'}
        return Response(data, media_type="application/octet-stream", headers=headers)
