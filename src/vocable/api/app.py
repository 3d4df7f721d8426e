"""The app factory: both surfaces of the spec (/v1 + /health, /api/v1) in one FastAPI app."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from vocable import __version__
from vocable.api.docs import install_docs
from vocable.api.errors import install_error_handlers
from vocable.api.openai import audio as openai_audio
from vocable.api.openai import chat as openai_chat
from vocable.api.openai import embeddings as openai_embeddings
from vocable.api.openai import models as openai_models
from vocable.api.openai import speech as openai_speech
from vocable.api.openapi import install_openapi
from vocable.api.routes import (
    account,
    admin,
    ai,
    analysis,
    auth,
    cloud,
    enhance,
    keys,
    meta,
    search,
    speakers,
    stream,
    transcribe,
    transcript_ai,
    transcript_media,
    transcripts,
    translate,
    tts,
    usage,
    webhooks,
)
from vocable.api.uploads import UploadReceiver
from vocable.api.validation import check_request
from vocable.api.web import install_web
from vocable.config import Settings
from vocable.services import Services


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    services = services or Services.create(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        services.start()
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="Vocable",
        version=__version__,
        description="Self-hosted speech platform: transcription, streaming and AI on local models.",
        lifespan=lifespan,
        # Undocumented query parameters, invalid text, unbounded integers: 400 before any route.
        dependencies=[Depends(check_request)],
        docs_url=None,  # /docs and /redoc come from install_docs: local assets and a CSP
        redoc_url=None,
    )
    app.state.services = services
    # Uploads in progress; built here, at start-up, it removes what a crashed process left.
    app.state.uploads = UploadReceiver(services.settings.data_dir / "uploads")
    app.state.started_at = int(time.time())  # OpenAI's `created` of the models listed
    install_error_handlers(app)
    install_openapi(app)
    install_docs(app)
    app.include_router(meta.router)
    app.include_router(keys.router)
    app.include_router(transcribe.router)
    app.include_router(enhance.router)
    app.include_router(account.router)
    app.include_router(transcripts.router)
    app.include_router(transcript_media.router)
    app.include_router(search.router)
    app.include_router(usage.router)
    app.include_router(cloud.router)
    app.include_router(webhooks.router)
    app.include_router(stream.router)
    app.include_router(analysis.router)
    app.include_router(translate.router)
    app.include_router(ai.router)
    app.include_router(transcript_ai.router)
    app.include_router(auth.router)
    app.include_router(admin.router)
    app.include_router(speakers.router)
    app.include_router(tts.router)
    # The OpenAI-compatible surface (errors in OpenAI's shape on these routes only).
    app.include_router(openai_audio.router)
    app.include_router(openai_speech.router)
    app.include_router(openai_embeddings.router)
    app.include_router(openai_chat.router)
    app.include_router(openai_models.router)
    install_web(app)  # the web interface: GET / and /web/ (no catch-all: order does not matter)
    return app
