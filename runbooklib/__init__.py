"""runbooklib: install, verify and troubleshoot Multus thick + Whereabouts + macvlan NADs on k3s."""

from runbooklib.errors import ParamsError, RunbookError
from runbooklib.params import Params, load_params

__all__ = ["Params", "ParamsError", "RunbookError", "load_params"]
__version__ = "0.1.0"
