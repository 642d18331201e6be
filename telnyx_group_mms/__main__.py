"""``python -m telnyx_group_mms``: the command line."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="telnyx-group-mms")
