"""The ``config`` sub-commands of ``python -m atlas``: the shared-mode access config (workspaces, users)."""
from __future__ import annotations

import argparse
import getpass
import sys

from atlas.cli._common import shown
from errors import UsageError

_CONFIG_HELP = "the access config file (JSON, mode 0600)"
_ROLES = ("viewer", "editor", "admin")
"""`access.ROLES` for the help text: importing `access` loads its password hashing, which no other
command needs (tests check the two stay equal)."""


def _password(name: str) -> str:
    """Read the new password: the first line of stdin when it is not a terminal, else asked twice.

    The password is never echoed, printed or put in a message.
    """
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UsageError(f"no password for user '{name}' on stdin: give it as the first line "
                             "(e.g. from a password manager), or run the command in a terminal to be asked.")
        return password
    first = getpass.getpass(f"password for {name}: ")
    if getpass.getpass(f"password for {name} (again): ") != first:
        raise UsageError(f"the two passwords for user '{name}' differ; nothing was saved. Run the command again.")
    return first


def _cmd_init(args: argparse.Namespace) -> int:
    from access import init_config

    config = init_config(args.file)
    print(f"{config.path}: new access config (mode 0600) with a fresh signing secret, no workspaces, no users. "
          f"Next: python -m atlas config add-workspace NAME LOCATION --config {config.path}")
    return 0


def _cmd_add_workspace(args: argparse.Namespace) -> int:
    from access import add_workspace

    config = add_workspace(args.config, args.name, args.location)
    print(f"{config.path}: workspace {args.name} -> {shown(args.location)}")
    return 0


def _cmd_add_user(args: argparse.Namespace) -> int:
    from access import ROLES, add_user, load_config

    # Checked before the password is asked for, so a typo does not cost typing it twice.
    if args.role not in ROLES:
        raise UsageError(f"--role '{args.role}' is not a role; use one of {', '.join(ROLES)}.")
    load_config(args.config)
    config = add_user(args.config, args.name, role=args.role, password=_password(args.name))
    print(f"{config.path}: user {args.name} ({args.role}); only the password's Argon2id hash is stored")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from access import load_config

    config = load_config(args.config)
    print(f"{config.path}")
    print("workspaces:")
    for name, location in sorted(config.workspaces.items()):
        print(f"  {name}: {shown(location)}")
    if not config.workspaces:
        print("  (none)")
    print("users:")
    for name, user in sorted(config.users.items()):
        print(f"  {name}: {user.role}")
    if not config.users:
        print("  (none)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``config init|add-workspace|add-user|list`` to the ``python -m atlas`` command line."""
    p = subparsers.add_parser("config", help="the shared-mode access config: workspaces and users",
                              description="Create and change the access config of a shared deployment.")
    commands = p.add_subparsers(dest="config_command", required=True, metavar="COMMAND")

    i = commands.add_parser("init", help="create a new config file (refuses to overwrite one)")
    i.add_argument("file", metavar="FILE", help="where to write it; its folder must exist")
    i.set_defaults(run=_cmd_init)

    w = commands.add_parser("add-workspace", help="add a workspace, or point a name at a new location")
    w.add_argument("name", metavar="NAME", help="1-40 lowercase letters, digits, '-' or '_'")
    w.add_argument("location", metavar="LOCATION", help="an absolute folder path or a postgresql:// URL")
    w.add_argument("--config", required=True, metavar="FILE", help=_CONFIG_HELP)
    w.set_defaults(run=_cmd_add_workspace)

    u = commands.add_parser(
        "add-user", help="add a user, or set a user's role and password",
        description="The password is read from the first line of stdin when it is not a terminal; "
                    "otherwise it is asked for twice, without echo.",
    )
    u.add_argument("name", metavar="NAME", help="sign-in name: 1-40 lowercase letters, digits, '-' or '_'")
    u.add_argument("--role", required=True, metavar="ROLE", help=" | ".join(_ROLES))
    u.add_argument("--config", required=True, metavar="FILE", help=_CONFIG_HELP)
    u.set_defaults(run=_cmd_add_user)

    ls = commands.add_parser("list", help="list the workspaces and the users with their roles")
    ls.add_argument("--config", required=True, metavar="FILE", help=_CONFIG_HELP)
    ls.set_defaults(run=_cmd_list)
