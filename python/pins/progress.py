"""Progress display for long C++ runs (pins.train): one bar, updated in place, in a Jupyter
notebook (an HTML <progress> element in an updatable display) and in a terminal (a line
rewritten with carriage returns on stderr). Needs nothing beyond IPython, which notebooks
have."""

import re
import sys
import time

_EPOCH = re.compile(r"^\s*(?:epoch|step)\s+(\d+)/(\d+)\s*(.*)$")


def in_notebook():
    """True inside a Jupyter kernel (where HTML displays can be updated in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class ProgressBar:
    """A bar for `total` steps fed with the trainers' progress lines.

    ``bar.line(text)`` takes one line of the C++ trainer's output: an epoch line
    ("epoch  3/20  loss ...") moves the bar, any other line is shown as a message.
    ``bar.close()`` ends it. Usable as a context manager."""

    def __init__(self, label="train", notebook=None, stream=None):
        """A bar titled `label`; `notebook` (default: detected) picks HTML over text, and
        `stream` (default: stderr) is where the text bar goes."""
        self.label = label
        self.notebook = in_notebook() if notebook is None else notebook
        self.stream = stream or sys.stderr
        self.done = 0
        self.total = 0
        self.text = ""
        self.messages = []
        self._start = time.monotonic()
        self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def line(self, text):
        """Feeds one line of progress output."""
        m = _EPOCH.match(text)
        if m:
            self.update(int(m.group(1)), int(m.group(2)), m.group(3))
        else:
            self.message(text)

    def update(self, done, total, text=""):
        """Shows `done` of `total` steps with a status text."""
        self.done, self.total, self.text = done, total, text
        self._draw()

    def message(self, text):
        """Shows a line that is not progress (a rollback, an early stop)."""
        self.messages.append(text)
        if self.notebook:
            self._draw()
        else:
            self.stream.write("\r\033[K" + text + "\n")
            self._draw()

    def close(self):
        """Finishes the bar (a terminal gets its final newline)."""
        if not self.notebook and self.total:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self):
        elapsed = time.monotonic() - self._start
        if self.notebook:
            self._draw_html(elapsed)
        elif self.total:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write("\r\033[K%s [%s%s] %d/%d %s" % (
                self.label, "#" * filled, "." * (width - filled), self.done, self.total,
                self.text))
            self.stream.flush()

    def _draw_html(self, elapsed):
        import html

        from IPython.display import HTML, display

        body = "<div><b>%s</b> <progress value='%d' max='%d' style='width:40%%'></progress> " \
               "%d/%d &nbsp; %.0f s<br><code>%s</code>%s</div>" % (
                   html.escape(self.label), self.done, max(self.total, 1), self.done,
                   self.total, elapsed, html.escape(self.text),
                   "".join("<br><code>%s</code>" % html.escape(m) for m in self.messages[-5:]))
        if self._handle is None:
            self._handle = display(HTML(body), display_id=True)
        else:
            self._handle.update(HTML(body))
