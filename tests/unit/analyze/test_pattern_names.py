"""A pattern's name says what it is: its tools and where they ran, never a catch-all category."""

from __future__ import annotations

from selflow_qt.analyze.semantics import name_cluster

SHELL = {"act:shell/command": 1.0}


def test_shell_work_is_named_by_its_tools_and_the_folder_it_ran_in():
    shares = {**SHELL, "verb:git": 0.5, "sub:git commit": 0.1, "verb:pytest": 0.3, "verb:cd": 0.1}
    distinctive = ["sub:git commit", "verb:pytest", "verb:git", "verb:cd"]
    places = {"folder:~": 1.0, "folder:~/src": 0.9, "folder:~/src/app": 0.9}
    assert name_cluster(shares, distinctive, places=places)[0] == "git and pytest in ~/src/app"


def test_commands_run_after_ssh_are_named_by_the_host():
    shares = {**SHELL, "verb:ssh": 0.1, "verb:systemctl": 0.4, "verb:journalctl": 0.2}
    distinctive = ["verb:journalctl", "verb:systemctl", "verb:ssh"]
    places = {"folder:~": 1.0, "host:web01": 0.9}
    name = name_cluster(shares, distinctive, places=places)[0]
    assert name == "systemctl and journalctl on web01"


def test_a_tool_used_mostly_through_one_sub_command_is_named_by_it():
    shares = {**SHELL, "verb:docker": 0.9, "sub:docker compose": 0.7, "verb:ls": 0.1}
    distinctive = ["sub:docker compose", "verb:docker", "verb:ls"]
    assert name_cluster(shares, distinctive, places={})[0] == "docker compose and ls"


def test_shell_admin_and_dotfiles_are_not_one_category():
    """Before, both were "System administration (...)": the kind of work, not the work."""
    admin = {**SHELL, "verb:sudo": 0.5, "verb:systemctl": 0.4, "verb:apt": 0.2}
    dotfiles = {**SHELL, "verb:vim": 0.5, "verb:stow": 0.3, "verb:cd": 0.1}
    a = name_cluster(admin, list(admin), places={})[0]
    b = name_cluster(dotfiles, list(dotfiles), places={"folder:~/dotfiles": 0.9})[0]
    assert a == "systemctl and apt"
    assert b == "vim and stow in ~/dotfiles"


def test_file_and_app_activity_keeps_its_kind():
    shares = {"ext:.py": 0.5, "verb:git": 0.2, "dir:~/src/app": 0.6}
    assert name_cluster(shares)[0] == "Python coding in ~/src/app"


def test_an_identifier_among_the_arguments_does_not_describe_a_pattern():
    from selflow_qt.analyze.semantics import _shown

    assert _shown("verb:john") and _shown("arg:status") and _shown("dir:~/src")
    assert not _shown("arg:best_key") and not _shown("flag:-v")
