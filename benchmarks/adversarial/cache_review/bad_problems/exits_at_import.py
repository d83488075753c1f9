"""A problem file that calls sys.exit while being imported (a script's `if __name__` guard forgotten)."""
import sys
sys.exit(3)
