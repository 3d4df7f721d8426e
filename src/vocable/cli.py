"""The `vocable` command line: serve, models, accounts, keys, admin, invites, transcribe, enhance,
say, stream."""

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
admin_app = typer.Typer(help="The admin role (the operator console).", no_args_is_help=True)
invites_app = typer.Typer(help="Invite codes (VOCABLE_SIGNUP=invite).", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(admin_app, name="admin")
app.add_typer(invites_app, name="invites")
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
    role: Annotated[str, typer.Option(
        help="all (everything in this process) or api (no speech model: jobs run on "
        "`vocable worker` processes, VOCABLE_QUEUE=celery; no streams)."
    )] = "all",
) -> None:
    """Start the HTTP server."""
    import uvicorn

    from vocable.api.app import create_app
    from vocable.api.server import uvicorn_options
    from vocable.services import Services

    if role not in ("all", "api"):
        _fail(f"unknown role '{role}': use all or api (workers start with `vocable worker`)")
    settings = settings_for(
        data_dir, host=host, port=port, database_url=database_url, workers=workers,
        device=device, default_model=default_model,
    )
    try:
        services = Services.create(settings, role=role)
    except ValueError as exc:
        _fail(str(exc))
    console.print(f"Vocable ({role}) on http://{settings.host}:{settings.port} (data in {settings.data_dir})")
    uvicorn.run(create_app(services=services), **uvicorn_options(settings))


@app.command()
def worker(
    data_dir: DataDir = None,
    queues: Annotated[str, typer.Option(
        help="Comma-separated queues to take jobs from: transcribe, diarize, llm, audio."
    )] = "transcribe",
    concurrency: Annotated[int, typer.Option(help="Jobs run at once (threads sharing the model).")] = 1,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    default_model: Annotated[str | None, typer.Option(help="Default speech model.")] = None,
) -> None:
    """Run jobs from the broker (VOCABLE_BROKER_URL) as a Celery worker: loads the speech model."""
    from vocable.worker import Worker

    settings = settings_for(
        data_dir, database_url=database_url, device=device, default_model=default_model,
        queue="celery",
    )
    try:
        node = Worker(settings, [q.strip() for q in queues.split(",") if q.strip()], concurrency)
    except ValueError as exc:
        _fail(str(exc))
    console.print(f"Vocable worker {node.node.id} on {settings.broker_url} (queues {queues})")
    node.run()


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
    from vocable.registry.tts import VOICES, VoiceRegistry

    model_dir = settings_for(data_dir).resolved_model_dir
    if any(v.id == model_id for v in VOICES):  # a Piper voice or a cloning model (F5-TTS)
        try:
            path = VoiceRegistry(model_dir).pull(model_id)
        except Exception as exc:  # noqa: BLE001 - network errors: say what happened, no trace
            _fail(f"could not pull {model_id}: {exc}")
        console.print(f"{model_id} ready at {path} (used by /v1/tts)")
        return
    if model_id in NMT_MODELS:  # translation models are converted to CTranslate2 on the way in
        try:
            path = TranslationRegistry(model_dir).pull(model_id)
        except Exception as exc:  # noqa: BLE001 - network errors: say what happened, no trace
            _fail(f"could not pull {model_id}: {exc}")
        console.print(f"{model_id} ready at {path} (used by /v1/translate)")
        return
    llms = LLMRegistry(model_dir)
    registry = llms if llms.get(model_id) is not None else ModelRegistry(model_dir)
    try:
        path = registry.pull(model_id)
    except Exception as exc:  # noqa: BLE001 - network errors, unknown ids: say what happened, no trace
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
    db.migrate(blob_store_from_url(  # a migration may move uploads
        settings.resolved_blob_url, s3_endpoint_url=settings.blob_s3_endpoint_url,
        s3_region=settings.blob_s3_region,
    ))
    return db


@accounts_app.command("create")
def accounts_create(
    email: str,
    plan: Annotated[str, typer.Option(help="Plan name (free, paid, or one from settings).")] = "free",
    credits: Annotated[int, typer.Option(help="Starting credits (paid plans).")] = 0,
    admin: Annotated[bool, typer.Option("--admin", help="Give it the admin role.")] = False,
    password: Annotated[bool, typer.Option(
        "--password", help="Ask for a password (to sign in on the web page).")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create an account (verified: the operator vouches for the address)."""
    from vocable.accounts.keys import AccountExists, create_account
    from vocable.accounts.passwords import PasswordRejected, Passwords

    settings = settings_for(data_dir)
    hashed = None
    if password:
        passwords = Passwords.for_settings(settings)
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            passwords.check_new(secret, email)
        except PasswordRejected as exc:
            _fail(str(exc))
        hashed = passwords.hash(secret)
    try:
        account = create_account(_db(data_dir), email, plan=plan, credits=credits,
                                 role="admin" if admin else "user", password_hash=hashed,
                                 verified=True)
    except AccountExists as exc:
        _fail(str(exc))
    typer.echo(f"account {account.id} {account.email} plan={account.plan} credits={account.credits}"
               + (" role=admin" if admin else ""))


def _console(data_dir: Path | None):
    from vocable.accounts.console import AdminConsole
    from vocable.storage.blobs import blob_store_from_url

    settings = settings_for(data_dir)
    return AdminConsole(_db(data_dir), settings.plans, blob_store_from_url(settings.resolved_blob_url))


def _account_id(console, email: str) -> int:
    from vocable.accounts.keys import AccountNotFound

    try:
        return console.find(email)
    except AccountNotFound as exc:
        _fail(str(exc))


def _run(action):
    """Run a console action; a domain refusal is a one-line error, not a trace."""
    from vocable.accounts.console import AccountBusy
    from vocable.accounts.keys import AccountNotFound
    from vocable.accounts.profile import ProfileError

    try:
        return action()
    except (AccountBusy, AccountNotFound, ProfileError) as exc:
        _fail(str(exc))


def _show(account: dict) -> None:
    allowance = (f"credits={account['credits']}" if account["monthly_minutes"] is None else
                 f"minutes={account['minutes_used']}/{account['monthly_minutes']}")
    typer.echo(f"account {account['id']} {account['email']} plan={account['plan']} {allowance} "
               f"role={account['role']}" + (" DISABLED" if account["disabled"] else ""))


@accounts_app.command("list")
def accounts_list(
    search: Annotated[str, typer.Option("--search", "-q", help="Part of an email or name, or a plan.")] = "",
    page: int = 1,
    data_dir: DataDir = None,
) -> None:
    """List accounts (50 a page)."""
    listing = _console(data_dir).list_accounts(search, page, 50)
    table = Table()
    widest = max((len(a["email"]) for a in listing["accounts"]), default=5)
    for header in ("id", "email", "plan", "credits", "minutes", "role", "keys", "transcripts", "status"):
        # addresses are what the other commands take: never cut or wrap them
        table.add_column(header, no_wrap=header == "email",
                         min_width=widest if header == "email" else None)
    for a in listing["accounts"]:
        table.add_row(str(a["id"]), a["email"], a["plan"], str(a["credits"]),
                      f"{a['minutes_used']}/{a['monthly_minutes']}" if a["monthly_minutes"] else "-",
                      a["role"], str(a["api_keys"]), str(a["transcripts"]),
                      "disabled" if a["disabled"] else "active")
    Console().print(table)
    typer.echo(f"{listing['total']} account(s)")


@accounts_app.command("plan")
def accounts_plan(email: str, plan: str, data_dir: DataDir = None) -> None:
    """Change an account's plan (applies to its next request)."""
    console = _console(data_dir)
    _show(_run(lambda: console.set_plan(_account_id(console, email), plan)))


@accounts_app.command("credits")
def accounts_credits(email: str, credits: int, data_dir: DataDir = None) -> None:
    """Grant credits (a negative number takes some back, never below zero)."""
    console = _console(data_dir)
    _show(_run(lambda: console.grant_credits(_account_id(console, email), credits)))


@accounts_app.command("disable")
def accounts_disable(email: str, data_dir: DataDir = None) -> None:
    """Disable an account: its keys, sessions and tickets are refused from now on."""
    console = _console(data_dir)
    _show(_run(lambda: console.set_disabled(_account_id(console, email), True)))


@accounts_app.command("enable")
def accounts_enable(email: str, data_dir: DataDir = None) -> None:
    """Enable a disabled account again."""
    console = _console(data_dir)
    _show(_run(lambda: console.set_disabled(_account_id(console, email), False)))


@accounts_app.command("delete")
def accounts_delete(
    email: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Delete an account with its keys, sessions, transcripts, usage and stored audio."""
    console = _console(data_dir)
    account_id = _account_id(console, email)
    if not yes:
        typer.confirm(f"Delete {email} and everything it owns?", abort=True)
    _run(lambda: console.delete_account(account_id))
    typer.echo(f"deleted account {account_id} {email}")


@accounts_app.command("set-password")
def accounts_set_password(
    email: str,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Set an account's password (how passwords are reset without SMTP); its sessions end."""
    import sys

    from vocable.accounts.auth import AuthService
    from vocable.accounts.mailer import Mailer
    from vocable.accounts.passwords import PasswordRejected
    from vocable.accounts.ratelimit import RequestRateLimiter

    settings = settings_for(data_dir)
    console = _console(data_dir)
    account_id = _account_id(console, email)
    secret = (sys.stdin.readline().rstrip("\n") if password_stdin
              else typer.prompt("New password", hide_input=True, confirmation_prompt=True))
    auth = AuthService(console.db, settings, RequestRateLimiter("memory://", settings.plans),
                       Mailer())
    try:
        auth.set_password(account_id, secret, email=email)
    except PasswordRejected as exc:
        _fail(str(exc))
    typer.echo(f"password set for {email}; its sessions were ended")


@accounts_app.command("usage")
def accounts_usage(
    days: Annotated[int, typer.Option(help="Days, ending today (UTC).")] = 30,
    data_dir: DataDir = None,
) -> None:
    """Usage across accounts by day, and the busiest accounts."""
    usage = _console(data_dir).usage(days)
    table = Table(title=f"{usage['start']} to {usage['end']}")
    for header in ("date", "accounts", "requests", "transcriptions", "audio minutes", "credits"):
        table.add_column(header)
    for d in usage["days"]:
        if d["requests"] or d["transcriptions"]:
            table.add_row(d["date"], str(d["active_accounts"]), str(d["requests"]),
                          str(d["transcriptions"]), str(d["audio_minutes"]), str(d["credits_spent"]))
    Console().print(table)
    t = usage["totals"]
    typer.echo(f"total: {t['requests']} requests, {t['transcriptions']} transcriptions, "
               f"{t['audio_minutes']} audio minutes, {t['credits_spent']} credits "
               f"({t['accounts']} accounts)")


@admin_app.command("grant")
def admin_grant(email: str, data_dir: DataDir = None) -> None:
    """Give an account the admin role (the first admin comes from here)."""
    console = _console(data_dir)
    _show(_run(lambda: console.set_role(_account_id(console, email), "admin")))


@admin_app.command("revoke")
def admin_revoke(email: str, data_dir: DataDir = None) -> None:
    """Take the admin role away."""
    console = _console(data_dir)
    _show(_run(lambda: console.set_role(_account_id(console, email), "user")))


@invites_app.command("create")
def invites_create(
    uses: Annotated[int, typer.Option(help="How many sign-ups it allows.")] = 1,
    days: Annotated[float, typer.Option(help="Days it stays valid (0 = no expiry).")] = 14,
    note: Annotated[str, typer.Option(help="A label (who it is for).")] = "",
    data_dir: DataDir = None,
) -> None:
    """Make an invite code; printed once, alone on the last line."""
    from vocable.accounts.invites import create_invite

    try:
        invite, raw = create_invite(_db(data_dir), max_uses=uses, expires_in_days=days or None,
                                    note=note)
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(f"invite {invite.id} ({uses} use(s)); it is shown only once:")
    typer.echo(raw)


@invites_app.command("list")
def invites_list(data_dir: DataDir = None) -> None:
    """List invite codes (not the codes themselves)."""
    from vocable.accounts.invites import invite_out, list_invites

    table = Table()
    for header in ("id", "note", "uses", "expires", "status"):
        table.add_column(header)
    for invite in map(invite_out, list_invites(_db(data_dir))):
        table.add_row(invite["id"], invite["note"], f"{invite['uses']}/{invite['max_uses']}",
                      str(invite["expires_at"] or "-"), "active" if invite["active"] else "spent")
    Console().print(table)


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
    from vocable.transcription.speech_models import (
        EnglishOnlyModel,
        SpeechModels,
        UnknownLanguage,
    )
    from vocable.transcription.whisper import WhisperExecutor

    if format not in formats.FORMATS:
        _fail(f"unknown format '{format}'; use one of {', '.join(formats.FORMATS)}")
    settings = settings_for(data_dir)
    whisper = WhisperExecutor(ModelRegistry(settings.resolved_model_dir), settings)
    try:  # the model and language the server would choose for the same request
        choice = SpeechModels(whisper, settings.model_fallback).choose(model, language)
    except (ModelNotInstalled, EnglishOnlyModel, UnknownLanguage) as exc:
        _fail(str(exc))
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
                TranscribeOptions(model=choice.model, language=choice.language, diarize=diarize,
                                  speakers=speakers, enhance=enhance),
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
def say(
    text: Annotated[str, typer.Argument(help="What to say.")],
    reference: Annotated[Path | None, typer.Option(
        "--reference", "-r", exists=True, dir_okay=False,
        help="3-10 s of a voice to speak in (matched, or cloned when a cloning model is installed).",
    )] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Audio file to write; its "
                      "extension gives the format (wav, flac, mp3, ogg, opus, aac, pcm).")] = Path("say.wav"),
    voice: Annotated[str | None, typer.Option(help="Voice id (default: the best installed).")] = None,
    speed: Annotated[float, typer.Option(help="Speaking rate, 0.25 to 4.")] = 1.0,
    data_dir: DataDir = None,
) -> None:
    """Speak TEXT locally (no server) into an audio file."""
    from vocable.audio import AudioError
    from vocable.audio.encode import AudioEncoder, UnknownFormat
    from vocable.audio.tts import CloningUnavailable, TTSInputError
    from vocable.registry.pool import ModelPool
    from vocable.registry.speech import ModelRegistry
    from vocable.registry.tts import VoiceNotFound
    from vocable.services import tts_service
    from vocable.transcription.whisper import WhisperExecutor

    settings = settings_for(data_dir)
    pool = ModelPool(settings.model_idle_unload_s)
    whisper = WhisperExecutor(ModelRegistry(settings.resolved_model_dir), settings, pool)
    tts = tts_service(settings, pool, whisper)
    try:
        encoder_format = output.suffix.lstrip(".").lower() or "wav"
        text = tts.check_text(text)
        ref = tts.load_reference(reference) if reference is not None else None
        synthesis = tts.start(text, voice, speed, ref)
        encoder = AudioEncoder(encoder_format, synthesis.sample_rate)
        with open(output, "wb") as out:
            out.writelines(encoder.feed(piece) for piece in synthesis.pieces())
            out.write(encoder.finish())
            if encoder.format.name == "wav":  # the length is known now: exact sizes
                from vocable.audio.encode import wav_header

                out.seek(0)
                out.write(wav_header(synthesis.sample_rate, synthesis.samples))
    except (AudioError, TTSInputError, VoiceNotFound, UnknownFormat, CloningUnavailable) as exc:
        _fail(str(exc))
    finally:
        pool.close()
    similarity = f", similarity {synthesis.similarity:.3f}" if synthesis.similarity is not None else ""
    console.print(
        f"{output}: {synthesis.duration_s:.1f} s in {synthesis.generation_s:.1f} s, voice "
        f"{synthesis.voice} ({synthesis.mode}{similarity})"
    )


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
