// Package forge speaks to a Forgejo or Gitea forge (the two share one API) for the pull
// request trigger: a client for exactly the REST routes swarmrun uses, each cited in its
// comment by the operationId of the forge's published API description
// (templates/swagger/v1_json.tmpl in go-gitea/gitea), and the verification and parsing of the
// webhook deliveries swarmrun accepts (issue_comment and pull_request), signed with
// HMAC-SHA256 of the body.
//
// A Token prints as *** in every format and JSON, so that it cannot reach a log line, an
// error, an event or a status by mistake; it is sent only in the Authorization header of
// requests to the forge it was read for.
//
// forge decides nothing: who may ask for a run, what a comment means and what is posted back
// belong to package trigger. It must not import Docker, the store or the controller, and it
// must not log.
package forge
