// Package forgetest is an HTTP server that serves the routes of the Forgejo/Gitea API that
// swarmrun uses, as the forges' published API description documents them, over a small state
// of users, tokens, organisations, teams, repositories, pull requests, comments and commit
// statuses; and what a forge sends to a webhook. No forge can be installed where swarmrun's
// tests run, so the forge side of the pull request trigger is tested against this server, and
// forge's contract test keeps both honest about every route and field.
//
// It records every request (method, route pattern, query keys, body keys) for the contract
// test, and can be told to fail a route. It is imported by tests and by the demo (demo/mission),
// which has no forge either; it must not grow routes swarmrun does not call, nor answer in ways
// the API description does not document.
package forgetest
