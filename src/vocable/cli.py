"""The `vocable` command line: serve, models, accounts, keys, transcribe, enhance, stream."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from vocable.config import Settings

app = typer.Typer(help="Vocable: self-hosted speech platform.", no_args_is_help=True)
models_app = typer.Typer(help="Speech and language models.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar="VOCABLE_DATA_DIR", help="Where Vocable keeps its data."),
]


def settings_for(data_dir: Path | None, **overrides) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL.")] = None,
    workers: Annotated[int | None, typer.Option(help="In-process transcription workers.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    default_model: Annotated[str | None, typer.Option(help="Default speech model.")] = None,
) -> None:
    """Start the HTTP server."""
    import uvicorn

    from vocable.api.app import create_app
    from vocable.api.server import uvicorn_options

    settings = settings_for(
        data_dir, host=host, port=port, database_url=database_url, workers=workers,
        device=device, default_model=default_model,
    )
    console.print(f"Vocable on http://{settings.host}:{settings.port} (data in {settings.data_dir})")
    uvicorn.run(create_app(settings), **uvicorn_options(settings))


@models_app.command("list")
def models_list(data_dir: DataDir = None) -> None:
    """List known models of every family and whether they are installed."""
    from vocable.registry.catalog import ModelCatalog

    table = Table()
    table.add_column("id", overflow="fold")  # ids are what commands take: never cut them
    for header in ("name", "kind", "source", "installed"):
        table.add_column(header)
    for entry in ModelCatalog(settings_for(data_dir)).entries():
        in_use = entry.default and entry.installed  # what a server here would use
        table.add_row(entry.id, entry.name, entry.family, entry.source,
                      ("yes" if entry.installed else "no") + (" (in use)" if in_use else ""))
    Console().print(table)


@models_app.command("pull")
def models_pull(model_id: str, data_dir: DataDir = None) -> None:
    """Fetch a model (bundled ones are assembled; others download from the hub)."""
    from vocable.registry.llm import LLMRegistry
    from vocable.registry.speech import ModelRegistry
    from vocable.registry.translation import NMT_MODELS, TranslationRegistry

    model_dir = settings_for(data_dir).resolved_model_dir
    if model_id in NMT_MODELS:  # translation models are converted to CTranslate2 on the way in
        try:
            path = TranslationRegistry(model_dir).pull(model_id)
        except Exception as exc:  # network errors: say what happened, no trace
            _fail(f"could not pull {model_id}: {exc}")
        console.print(f"{model_id} ready at {path} (used by /v1/translate)")
        return
    llms = LLMRegistry(model_dir)
    registry = llms if llms.get(model_id) is not None else ModelRegistry(model_dir)
    try:
        path = registry.pull(model_id)
    except Exception as exc:  # network errors, unknown ids: say what happened, no trace
        _fail(f"could not pull {model_id}: {exc}")
    console.print(f"{model_id} ready at {path}")


@models_app.command("add")
def models_add(
    path: Path,
    model_id: Annotated[str | None, typer.Option("--id", help="Id to list it under.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Add a GGUF language model by path (kept where it is). Use it with VOCABLE_LLM_MODEL=<id>."""
    from vocable.registry.llm import LLMRegistry

    llms = LLMRegistry(settings_for(data_dir).resolved_model_dir)
    try:
        added = llms.add(path, model_id or "")
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    console.print(f"added LLM {added} ({path}); select it with VOCABLE_LLM_MODEL={added}")


def _db(data_dir: Path | None):
    from vocable.storage.blobs import blob_store_from_url
    from vocable.storage.db import Database

    settings = settings_for(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    db.migrate(blob_store_from_url(settings.resolved_blob_url))  # a migration may move uploads
    return db


@accounts_app.command("create")
def accounts_create(
    email: str,
    plan: Annotated[str, typer.Option(help="Plan name (free, paid, or one from settings).")] = "free",
    credits: Annotated[int, typer.Option(help="Starting credits (paid plans).")] = 0,
    data_dir: DataDir = None,
) -> None:
    """Create an account."""
    from vocable.accounts.keys import AccountExists, create_account

    try:
        account = create_account(_db(data_dir), email, plan=plan, credits=credits)
    except AccountExists as exc:
        _fail(str(exc))
    typer.echo(f"account {account.id} {account.email} plan={account.plan} credits={account.credits}")


@keys_app.command("create")
def keys_create(
    email: str,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create an API key; the raw key is printed once, alone on the last line."""
    from vocable.accounts.keys import AccountNotFound, create_key, get_account_by_email

    db = _db(data_dir)
    try:
        account = get_account_by_email(db, email)
    except AccountNotFound as exc:
        _fail(str(exc))
    key, raw = create_key(db, account.id, name=name)
    typer.echo(f"key {key.id} for {account.email} (prefix {key.prefix}); it is shown only once:")
    typer.echo(raw)


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Audio or video file.")],
    model: Annotated[str | None, typer.Option(help="Model id (default: best installed).")] = None,
    language: Annotated[str, typer.Option(help="ISO 639-1 code or auto.")] = "auto",
    format: Annotated[str, typer.Option("--format", "-f", help="json, txt, srt or vtt.")] = "txt",
    diarize: Annotated[bool, typer.Option(help="Label speakers.")] = True,
    speakers: Annotated[int, typer.Option(help="Expected speakers (0 = automatic).")] = 0,
    enhance: Annotated[bool, typer.Option(help="Remove noise before recognition.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Transcribe a file locally (no server), printing the transcript to stdout."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from vocable.audio import AudioError, probe
    from vocable.audio.denoise import DenoiseExecutor, DenoiserUnavailable
    from vocable.diarization.executor import DiarizationError, DiarizationExecutor
    from vocable.registry.speech import ModelNotInstalled, ModelRegistry
    from vocable.transcription import formats
    from vocable.transcription.pipeline import TranscribeOptions, transcribe_file
    from vocable.transcription.whisper import WhisperExecutor

    if format not in formats.FORMATS:
        _fail(f"unknown format '{format}'; use one of {', '.join(formats.FORMATS)}")
    settings = settings_for(data_dir)
    whisper = WhisperExecutor(ModelRegistry(settings.resolved_model_dir), settings)
    diarizer = DiarizationExecutor.for_settings(settings) if diarize else None
    try:
        duration = probe(file).duration
        with Progress(
            TextColumn("[bold]transcribing"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
            TimeRemainingColumn(), console=console,
        ) as progress:
            task = progress.add_task("transcribe", total=max(duration, 0.1))
            result = transcribe_file(
                file,
                TranscribeOptions(model=model, language=language, diarize=diarize, speakers=speakers,
                                  enhance=enhance),
                whisper,
                diarizer=diarizer,
                progress=lambda done: progress.update(task, completed=min(done, duration)),
                denoiser=DenoiseExecutor() if enhance else None,
            )
            progress.update(task, completed=duration)
    except (AudioError, ModelNotInstalled, DiarizationError, DenoiserUnavailable) as exc:
        _fail(str(exc))
    finally:
        if diarizer is not None:
            diarizer.close()
    typer.echo(formats.render(result, format), nl=False)


@app.command()
def enhance(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Audio or video file.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Where to write (default: <name>.enhanced.<format> here).")] = None,
    denoise: Annotated[bool, typer.Option(help="Remove background noise.")] = True,
    normalize: Annotated[bool, typer.Option(help="Loudness to -16 LUFS, peaks under -1 dBTP.")] = True,
    sample_rate: Annotated[int | None, typer.Option(help="Output rate (default 16000).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="wav, flac, mp3, ogg or opus.")] = "wav",
) -> None:
    """Remove noise and normalise loudness of a file locally (no server), as /v1/enhance-audio."""
    import shutil

    from vocable.audio import AudioError
    from vocable.audio.denoise import DenoiseExecutor, DenoiserUnavailable
    from vocable.audio.enhance import EnhanceOptions, enhance_file

    target = output or Path(f"{file.stem}.enhanced.{format.lower()}")
    options = EnhanceOptions(denoise=denoise, normalize=normalize, sample_rate=sample_rate,
                             format=format)
    try:
        with console.status("enhancing"):
            result = enhance_file(file, options, DenoiseExecutor() if denoise else None,
                                  work_dir=target.resolve().parent)
    except (AudioError, DenoiserUnavailable) as exc:
        _fail(str(exc))
    try:
        with target.open("wb") as out:
            shutil.copyfileobj(result.file, out)
    except OSError as exc:
        _fail(f"cannot write {target}: {exc}")
    finally:
        result.close()
    console.print(
        f"{target}: {result.duration:.1f} s, {result.loudness_out:.1f} LUFS, "
        f"true peak {result.true_peak_out:.1f} dBTP, in {result.processing_s:.1f} s", markup=False,
    )


@app.command()
def stream(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Audio or video file.")],
    url: Annotated[str, typer.Option(envvar="VOCABLE_URL", help="Server URL.")] = "http://127.0.0.1:8000",
    key: Annotated[str | None, typer.Option(envvar="VOCABLE_API_KEY", help="API key.")] = None,
    model: Annotated[str | None, typer.Option(help="Model id (default: the server's).")] = None,
    language: Annotated[str, typer.Option(help="ISO 639-1 code or auto.")] = "auto",
    speed: Annotated[float, typer.Option(help="Playback speed (1 = real time, 0 = as fast as possible).")] = 1.0,
) -> None:
    """Play a file to a server's WS /v1/stream at real-time speed; print partials and finals."""
    import asyncio

    from websockets.exceptions import WebSocketException

    from vocable.audio import AudioError
    from vocable.streaming.client import StreamRefused, pcm16_from_file, stream_pcm

    try:
        pcm = pcm16_from_file(file)
    except AudioError as exc:
        _fail(str(exc))
    live = console.is_terminal
    width = max(20, console.width - 1)

    def show(message: dict) -> None:
        if "partial" in message:
            if live:  # the interim line (on stderr) is rewritten in place
                console.file.write(f"\r\x1b[2K\x1b[2m… {message['partial'][-width + 2:]}\x1b[0m")
                console.file.flush()
        elif "text" in message:
            if live:
                console.file.write("\r\x1b[2K")
            typer.echo(f"[{message['start']:7.2f} → {message['end']:7.2f}] {message['text']}")
        elif "error" in message:
            console.print(f"error: {message['error']}", style="red", markup=False)

    try:
        outcome = asyncio.run(stream_pcm(url, pcm, key=key, model=model, language=language,
                                         speed=speed, on_message=show))
    except StreamRefused as exc:
        _fail(f"{exc} (close code {exc.code})")
    except (OSError, WebSocketException) as exc:
        _fail(f"cannot stream to {url}: {exc}")
    if not outcome.completed:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover
    app()
