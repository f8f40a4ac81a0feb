"""``deepcolor notebooks`` and ``deepcolor book``: the course's notebooks copied into a folder of
the student's, or listed, and the course run into static HTML pages (the command line's entry
point is :mod:`deepcolor.cli`).  Introduced in notebook ``00_start_here``.
"""

from __future__ import annotations

import time

from . import settings
from .config import PROFILES

# course, book and the lessons' course map (pandas) are imported when a command runs: `deepcolor
# --help` imports this module.

NOTEBOOKS_EXAMPLES = """examples:
  deepcolor notebooks my-course            # then: jupyter lab my-course
  deepcolor notebooks --list               # the course map: each notebook, what you do there, its time
  deepcolor notebooks my-course --force    # this version's notebooks; each one you changed is kept beside"""

BOOK_EXAMPLES = """examples:
  deepcolor book my-book --profile smoke                 # a quick look (minutes on a laptop; not results)
  deepcolor book my-book                                 # the profile of $DEEPCOLOR_PROFILE, else default
  deepcolor book my-book --profile smoke --notebooks 00 01   # two notebooks; run again to add others"""


def add_commands(sub, subcommand, debug, formatter) -> None:
    """Add ``notebooks`` and ``book`` to the subcommands ``sub`` of :func:`deepcolor.cli.build_parser`
    (``subcommand`` makes one; ``debug`` is the parent parser with ``--debug``)."""
    p = subcommand(sub, "notebooks", "copy the course's notebooks into a folder of yours (or list them with --list)",
                   parents=[debug], epilog=NOTEBOOKS_EXAMPLES, formatter_class=formatter)
    p.add_argument("dest", nargs="?", metavar="DEST", help="the folder for the notebooks (made if missing)")
    p.add_argument("--list", action="store_true", help="show the course map and copy nothing")
    p.add_argument("--force", action="store_true",
                   help="also replace the notebooks you changed, each kept first beside it as NAME.backup-N.ipynb")
    p.set_defaults(func=cmd_notebooks)

    p = subcommand(sub, "book", "run the course's notebooks and write them as static HTML pages, with an index",
                   parents=[debug], epilog=BOOK_EXAMPLES, formatter_class=formatter)
    p.add_argument("out", metavar="OUT", help="a new or empty folder, or an earlier book (what it ran is reused)")
    p.add_argument("--profile", choices=list(PROFILES),
                   help=f"the profile the notebooks run under (default: ${settings.PROFILE_ENV}, else default, as "
                        "in JupyterLab); every page names it")
    p.add_argument("--notebooks", nargs="+", metavar="NN",
                   help="run only these notebooks, by number (00 ... 11) or name (default: all)")
    p.set_defaults(func=cmd_book)


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


def book_profile(given: str | None) -> str:
    """The profile ``deepcolor book`` runs under: ``--profile``, else ``$DEEPCOLOR_PROFILE``, else
    ``default`` (what the notebooks themselves load); a name that is no profile is a ValueError."""
    profile = given or settings.profile() or "default"
    if profile not in PROFILES:
        raise ValueError(f"{settings.PROFILE_ENV}={profile!r} is not a profile: set it to one of "
                         f"{', '.join(PROFILES)}, or give --profile")
    return profile


def cmd_book(args) -> int:
    from .book import build

    profile = book_profile(args.profile)
    started = time.monotonic()
    pages = build(args.out, profile, args.notebooks, say=print)
    ran = sum(page.ran for page in pages)
    print(f"the book under {profile}: {len(pages)} pages ({ran} run now, {len(pages) - ran} reused) in "
          f"{time.monotonic() - started:.0f} s; open {args.out}/index.html in a browser")
    return 0
