"""System errors (`OSError`) in French words, for every message that tells an operator a file could not be read
or written: the corpus, the settings file, the saved index."""

from __future__ import annotations

import errno

_ERRNO_FRENCH = {
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.ENOENT: "fichier introuvable",
    errno.EISDIR: "c'est un dossier",
    errno.EIO: "erreur d'entrée-sortie du disque",
    errno.ELOOP: "trop de liens symboliques",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ENOMEM: "mémoire insuffisante",
    errno.ESTALE: "fichier réseau devenu inaccessible",
    errno.ENOSPC: "disque plein",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EDQUOT: "quota de disque dépassé",
    errno.ENOTDIR: "un fichier se trouve là où un dossier est attendu",
}


def french_os_error(exc: OSError) -> str:
    """A system error in French words where known, the original after in parentheses:
    "permission refusée (Permission denied)"."""
    original = exc.strerror or str(exc)
    french = _ERRNO_FRENCH.get(exc.errno or 0)
    return f"{french} ({original})" if french else original
