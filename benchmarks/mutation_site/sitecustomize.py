"""Python processes that a mutation run's tests start load the same getfullargspec fix (benchmarks/mutation_plugin.py).

While mutmut collects which tests reach which function (``MUTANT_UNDER_TEST=stats``),
a child process cannot report its calls back, and recording them there would look
for mutmut's configuration in the child's working directory: it runs the original
code instead. With a mutant active, the child runs the mutant, as the parent does.
"""

import os

import benchmarks.mutation_plugin  # noqa: F401  (patches inspect.getfullargspec on import)

if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    os.environ["MUTANT_UNDER_TEST"] = ""
