"""The actions: plain async functions, one per command type, each given a `Context` and its
parsed command. `bot.definitions` pairs each with its command type and spec."""
