"""`python -m publisher`: the same as the `publisher` command."""

from publisher.cli import main

if __name__ == "__main__":
    main()
