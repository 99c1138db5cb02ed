"""Type stubs of the extension module (python/src/lib.rs); users call the functions of
``oversim`` (__init__.py), which build these arguments."""

from typing import Any, Callable, Optional

__version__: str

class ScenarioError(ValueError):
    """A scenario that does not load: the command line's message, one problem a line."""

    file: str
    problems: list[dict[str, Any]]

class OversimError(Exception):
    """A run that cannot be made or written: the command line's message."""

class Files:
    """The files a run or an exploration made, as the command line writes them."""

    def names(self) -> list[str]: ...
    def text(self, name: str) -> Optional[str]: ...
    def manifest_json(self) -> str: ...
    def verdicts(self) -> list[tuple[list[str], list[str]]]: ...
    def warnings(self) -> list[str]: ...
    def table(self) -> str: ...
    def write(self, folder: str, force: bool = False, report: bool = False) -> None: ...

def run(
    call: dict[str, Any],
    timeseries: Optional[str] = None,
    progress: Optional[Callable[[int, int], Any]] = None,
) -> Files: ...
def explore(
    call: dict[str, Any],
    exploring: dict[str, Any],
    progress: Optional[Callable[[int, int], Any]] = None,
) -> Files: ...
def validate(call: dict[str, Any]) -> None: ...
def default_scenario() -> tuple[str, str]: ...
