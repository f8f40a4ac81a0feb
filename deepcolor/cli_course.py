"""``deepcolor notebooks``: the course's notebooks copied into a folder of the student's, or
listed (the command line's entry point is :mod:`deepcolor.cli`).  Introduced in notebook
``00_start_here``.
"""

from __future__ import annotations

# course and the lessons' course map (pandas) are imported when the command runs: `deepcolor --help`
# imports this module.

NOTEBOOKS_EXAMPLES = """examples:
  deepcolor notebooks my-course            # then: jupyter lab my-course
  deepcolor notebooks --list               # the course map: each notebook, what you do there, its time
  deepcolor notebooks my-course --force    # this version's notebooks; each one you changed is kept beside"""


def add_commands(sub, subcommand, debug, formatter) -> None:
    """Add ``notebooks`` to the subcommands ``sub`` of :func:`deepcolor.cli.build_parser`
    (``subcommand`` makes one; ``debug`` is the parent parser with ``--debug``)."""
    p = subcommand(sub, "notebooks", "copy the course's notebooks into a folder of yours (or list them with --list)",
                   parents=[debug], epilog=NOTEBOOKS_EXAMPLES, formatter_class=formatter)
    p.add_argument("dest", nargs="?", metavar="DEST", help="the folder for the notebooks (made if missing)")
    p.add_argument("--list", action="store_true", help="show the course map and copy nothing")
    p.add_argument("--force", action="store_true",
                   help="also replace the notebooks you changed, each kept first beside it as NAME.backup-N.ipynb")
    p.set_defaults(func=cmd_notebooks)


def course_map_text() -> str:
    """The course map (:func:`deepcolor.lessons.start_here.course_map`) as text: one row per
    notebook, its times under each profile and what you do there."""
    from .lessons.start_here import course_map

    table = course_map()
    what = "what you do there"
    width = int(table[what].str.len().max())
    columns = [c for c in table.columns if c != what] + [what]
    return table[columns].to_string(formatters={what: lambda text: f"{text:<{width}}"}, justify="left")


def cmd_notebooks(args) -> int:
    if args.list:
        if args.dest or args.force:
            raise ValueError("--list shows the course map and copies nothing: leave out DEST and --force")
        print(course_map_text())
        return 0
    if not args.dest:
        raise ValueError("give the folder to copy the notebooks into (deepcolor notebooks my-course), or --list "
                         "to see them")
    from .course import copy_course, describe

    print(describe(copy_course(args.dest, force=args.force, say=print)))
    return 0
