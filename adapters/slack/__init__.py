"""The Slack adapter: slack-bolt in, Block Kit out; it translates and holds no business rule."""
