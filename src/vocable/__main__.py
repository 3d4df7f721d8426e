from vocable.cli import app

app()
