"""Single instance and a local control socket: a second start asks the first to show itself.

Started by the tests' launcher (tests/support/run_app.py), the socket also accepts the commands
end-to-end tests need (open a dock, start a training, deliver a drop, save a screenshot), each
answered with one line.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)


def server_name(data_dir: Path) -> str:
    """One socket name per data folder (so test instances never meet the user's app)."""
    digest = hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:12]
    return f"selflow-{os.getuid() if hasattr(os, 'getuid') else 'u'}-{digest}"


def acquire_lock(data_dir: Path) -> QLockFile | None:
    """The instance lock in the data folder, or None if another SelFlow holds it.

    Raises PermissionError when the folder cannot be written (read-only): that is not "already
    running", and must not be reported as such.
    """
    lock = QLockFile(str(Path(data_dir) / "selflow.lock"))
    lock.setStaleLockTime(0)  # a lock whose process is gone is stale regardless of age
    if lock.tryLock(200):
        return lock
    if lock.error() == QLockFile.LockError.PermissionError:
        raise PermissionError(f"cannot write in the data folder {data_dir}")
    lock.removeStaleLockFile()
    return lock if lock.tryLock(200) else None


def send_command(data_dir: Path, command: str, timeout_ms: int = 3000) -> str | None:
    """Send one line to the running instance; its one-line answer, or None if none answered."""
    sock = QLocalSocket()
    sock.connectToServer(server_name(data_dir))
    if not sock.waitForConnected(timeout_ms):
        return None
    sock.write((command.strip() + "\n").encode())
    sock.flush()
    answer = b""
    while not answer.endswith(b"\n") and sock.waitForReadyRead(timeout_ms):
        answer += bytes(sock.readAll().data())
    sock.disconnectFromServer()
    return answer.decode(errors="replace").strip()


class ControlServer(QObject):
    """Listens on the local socket; ``handler(command) -> answer`` runs on the GUI thread."""

    def __init__(self, data_dir: Path, handler: Callable[[str], str]) -> None:
        super().__init__()
        self.handler = handler
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        name = server_name(data_dir)
        QLocalServer.removeServer(name)  # a leftover from a crashed run
        if not self.server.listen(name):
            log.warning("control socket unavailable: %s", self.server.errorString())
        self.server.newConnection.connect(self._accept)

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._read(s))

    def _read(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        line = bytes(sock.readLine().data()).decode(errors="replace").strip()
        try:
            answer = self.handler(line)
        except Exception as exc:  # a bad command must not take the app down
            log.exception("control command %r failed", line)
            answer = f"error {type(exc).__name__}: {exc}"
        sock.write((answer.replace("\n", " ") + "\n").encode())
        sock.flush()
        sock.disconnectFromServer()

    def close(self) -> None:
        self.server.close()
