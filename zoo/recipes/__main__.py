"""``python -m zoo.recipes``: list the recipes."""

from zoo.recipes import summaries

print("Recipes (run one with: python -m zoo.recipes.<name> --help)\n")
for name, summary in summaries().items():
    print(f"  {name:<18} {summary}")
