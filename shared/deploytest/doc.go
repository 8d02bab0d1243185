// Package deploytest holds tests of the deployment description: that
// template.yaml passes cfn-lint, and that its functions, queues and
// schedules match the functions/ directory and the fixed architecture (one
// SQS queue with a dead-letter queue per worker, the outbox sweep every
// minute); that template.yaml, infra/stack.go and shared/config agree on
// each function's environment and secrets; and that the notify function
// always gets a base URL. It has no code of its own; everything is in the
// tests.
package deploytest
