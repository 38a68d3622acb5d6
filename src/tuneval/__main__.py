"""``python -m tuneval`` runs the CLI."""

from tuneval.cli import main

if __name__ == "__main__":
    main()
