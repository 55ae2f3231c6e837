"""Python processes that a mutation run's tests start load the same getfullargspec fix (benchmarks/mutation_plugin.py).

With a mutant active, the child runs the mutant, as the parent does.

While mutmut collects which tests reach which function (``MUTANT_UNDER_TEST=stats``),
its own recorder would look for mutmut's configuration in the child's working
directory, and what it records would die with the child. Instead, each function the
child reaches is appended, once, to a file in the folder the parent test named
(``ZOO_MUTMUT_HITS``); the plugin adds them to the test's record when the test ends.
A line per new name, written at once, so a child killed with SIGKILL (the resume
tests do that) has still reported what it ran. Without that folder the child runs
the original code unrecorded.
"""

import os

import benchmarks.mutation_plugin  # noqa: F401  (patches inspect.getfullargspec on import)

if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    _folder = os.environ.get("ZOO_MUTMUT_HITS")
    if _folder and os.path.isdir(_folder):
        import mutmut.mutation.trampoline as _trampoline

        _seen: set = set()
        _path = os.path.join(_folder, f"{os.getpid()}.txt")

        def _record(name, caller=None):
            if name not in _seen:
                _seen.add(name)
                try:
                    with open(_path, "a", encoding="utf-8") as handle:
                        handle.write(name + "\n")
                except OSError:   # a process that outlived its test: the folder is gone, and so is the record
                    pass

        _trampoline.record_trampoline_hit = _record
    else:
        os.environ["MUTANT_UNDER_TEST"] = ""
