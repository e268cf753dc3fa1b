"""The terminal a test runs a command on, by its language (fleet.cli.common.cli_lang: the
locale when it names one, else FLEET_DEFAULT_LANGUAGE, Chinese). A test that reads a
command's English words says so with EN; a bare C locale reads Chinese, as a server's does."""

EN = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
ZH = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
