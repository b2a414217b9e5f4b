"""A pattern's name says what it is: its tools and where they ran, never a catch-all category."""

from __future__ import annotations

from selflow_qt.analyze.names import name_cluster

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


def test_writing_in_an_app_is_named_by_the_app_and_the_folder_its_files_are_in():
    """A few of its events are the apps' focus, which has no folder: the place is where the
    files lie, the tools the apps most of those events were in. Before: "Writing documents"."""
    shares = {
        "act:app/focus": 0.16,
        "app:obsidian": 0.065,
        "app:libreoffice-writer": 0.06,
        "app:nautilus": 0.035,
        "act:fs/modify": 0.5,
        "ext:.md": 0.5,
        "dir:~": 0.5,
        "dir:~/Documents": 0.5,
        "dir:~/Documents/notes": 0.45,
    }
    name = name_cluster(shares, list(shares))[0]
    assert name == "Writing documents with obsidian and libreoffice-writer in ~/Documents/notes"


def test_admin_work_outside_the_shell_says_its_tools():
    shares = {"act:app/focus": 0.4, "app:gnome-terminal": 0.4, "verb:systemctl": 0.3}
    shares |= {"verb:sudo": 0.2, "act:shell/command": 0.45, "cwd:~": 0.45, "dir:/etc": 0.15}
    name = name_cluster(shares, list(shares))[0]
    assert name == "System administration with gnome-terminal and systemctl"


def test_an_identifier_among_the_arguments_does_not_describe_a_pattern():
    from selflow_qt.analyze.semantics import _shown

    assert _shown("verb:john") and _shown("arg:status") and _shown("dir:~/src")
    assert not _shown("arg:best_key") and not _shown("flag:-v")


def test_files_in_two_folders_are_named_by_both():
    """No folder holds 60% of its events, two together do: both, not the category alone."""
    shares = {"act:fs/modify": 0.6, "act:fs/create": 0.4, "ext:.txt": 0.4, "ext:.log": 0.3}
    shares |= {"dir:~": 1.0, "dir:~/tmp": 0.5, "dir:~/Desktop": 0.35}
    assert name_cluster(shares, list(shares))[0] == "Writing documents in ~/tmp and ~/Desktop"


def test_admin_work_with_one_tool_says_its_kind_and_the_tool():
    shares = {"act:app/focus": 1.0, "app:gnome-terminal": 0.96, "app:slack": 0.02}
    name = name_cluster(shares, list(shares))[0]
    assert name == "System administration with gnome-terminal"


def test_two_names_with_the_same_words_in_another_order_are_told_apart():
    from selflow_qt.analyze.semantics import ClusterProfile, _dedupe_names

    def profile(label: int, name: str, top: str) -> ClusterProfile:
        terms = [(top, 1.0), ("app:eog", 0.5)]
        return ClusterProfile(label, name, "design", "~/Design", 10, terms, {}, {}, {}, [], 1.0)

    profiles = {
        0: profile(0, "Design assets with eog and inkscape in ~/Design", "ext:.png"),
        1: profile(1, "Design assets with inkscape and eog in ~/Design", "ext:.svg"),
    }
    _dedupe_names(profiles, frozenset())
    assert profiles[0].name == "Design assets with eog and inkscape in ~/Design"
    assert profiles[1].name == "Design assets with inkscape and eog in ~/Design (.svg)"
