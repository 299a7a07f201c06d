"""POST /v1/search — hybrid search inside the caller's tenant, filtered by what the caller may read."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import CallerDep, RuntimeDep
from api.schemas import SearchIn, SearchOut, search_out_json
from retrieval.ports import SearchFilters
from retrieval.search import SearchRequest

router = APIRouter(prefix="/v1", tags=["search"])


@router.post("/search", response_model=SearchOut)
async def search(body: SearchIn, caller: CallerDep, runtime: RuntimeDep, request: Request) -> Response:
    filters = body.filters
    search_request = SearchRequest(
        query=body.query,
        k=body.k,
        mode=body.mode,
        filters=SearchFilters(
            doc_ids=tuple(filters.doc_ids) if filters else (),
            labels_any=tuple(filters.labels) if filters else (),
            metadata_any=filters.metadata_any() if filters else (),
        ),
    )
    # The search blocks (encoder, engine, database), so it runs on a worker thread.
    hits = await run_in_threadpool(runtime.search.search, caller.read, search_request)
    # The body is SearchOut (the schema OpenAPI states), written directly: FastAPI would validate the
    # model again and encode it with the json module, and even building the models costs more than
    # the rest of the response path.
    content = search_out_json(request.state.trace_id, body.query, body.mode, body.k, hits)
    return Response(content, media_type="application/json")
