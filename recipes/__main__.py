"""``python -m recipes``: list the recipes."""

from recipes import RECIPES

print("Recipes (run one with: python -m recipes.<name> --help)\n")
for name, summary in RECIPES.items():
    print(f"  {name:<18} {summary}")
