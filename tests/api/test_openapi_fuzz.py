"""A bounded schemathesis run over the whole OpenAPI document, against a live server, with a
valid key: no 5xx, and every answer is one the document lists (status, content type, schema).

Every operation gets ``EXAMPLES`` valid and as many invalid generated cases. The operations that
run the LLM on every valid case (summarize, generate; translate and analyze can) or take a media
upload (transcribe) get ``MODEL_EXAMPLES``, and the server caps generations at a few tokens
(``llm_max_tokens``): this checks the HTTP contract, not what the model writes.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import MODEL_DIR, LiveServer, make_settings
from vocable.accounts.keys import create_account, create_key
from vocable.config import default_plans
from vocable.llm.runtime import LLMExecutor
from vocable.registry.llm import LLMRegistry
from vocable.services import Services

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 20
MODEL_EXAMPLES = 2
MODEL_PATHS = r"^/v1/(summarize|generate|translate|analyze|transcribe)$"
FUZZ_SETTINGS = {  # reproducible, no example database, no shrinking (the failure is reported as is)
    "deadline": None, "derandomize": True, "database": None,
    "phases": [Phase.explicit, Phase.generate], "suppress_health_check": list(HealthCheck),
}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, registry, pool, whisper, embedder, diarization):
    plans = default_plans()
    # the run sends a few hundred requests a minute: the per-minute limit is not under test here
    plans["paid"] = plans["paid"].model_copy(update={"requests_per_minute": 1_000_000})
    settings_ = make_settings(tmp_path_factory.mktemp("fuzz"), plans=plans, llm_max_tokens=8)
    # An executor of its own, for its cap on tokens; the loaded model is the run's (same pool).
    llm = LLMExecutor(LLMRegistry(MODEL_DIR), settings_, pool)
    services = Services.create(
        settings_, registry=registry, pool=pool, whisper=whisper, llm=llm, embedder=embedder,
        diarization=diarization,
    )
    with LiveServer(services) as server:
        account = create_account(services.db, "fuzz@example.com", plan="paid", credits=1000)
        server.key = create_key(services.db, account.id, name="fuzz")[1]
        yield server


def _fuzz(server, operations, max_examples: int) -> None:
    """Run every operation with ``max_examples`` positive and as many negative cases; collect
    the failures of all operations, so one does not hide the others."""
    failures = []
    for op in operations:
        strategy = st.one_of(op.as_strategy(GenerationMode.POSITIVE),
                             op.as_strategy(GenerationMode.NEGATIVE))

        @given(case=strategy)
        @settings(max_examples=2 * max_examples, **FUZZ_SETTINGS)
        def run(case):
            case.call_and_validate(
                base_url=server.url, headers={"Authorization": f"Bearer {server.key}"},
                checks=CHECKS, timeout=120,
            )

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - reported below, with every other operation's
            failures.append(f"{op.label}:\n{exc}")
    assert not failures, "\n\n".join(failures)
    assert server.client().get("/health").status_code == 200


def _operations(server, model_endpoints: bool) -> list:
    # schemathesis reads the live server's own document (the one /docs shows)
    schema = schemathesis.openapi.from_dict(server.client().get("/openapi.json").json())
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) > 20
    return [op for op in ops if bool(re.match(MODEL_PATHS, op.path)) == model_endpoints]


def test_api_conforms(fuzz_server):
    _fuzz(fuzz_server, _operations(fuzz_server, model_endpoints=False), EXAMPLES)


def test_model_endpoints_conform(fuzz_server):
    ops = _operations(fuzz_server, model_endpoints=True)
    assert {op.path for op in ops} == {"/v1/summarize", "/v1/generate", "/v1/translate",
                                       "/v1/analyze", "/v1/transcribe"}
    _fuzz(fuzz_server, ops, MODEL_EXAMPLES)
