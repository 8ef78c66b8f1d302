package postgres

// Migrations is the embedded migration set, for tests that migrate step by step.
var Migrations = migrations
