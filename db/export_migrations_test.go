package db

// MigrationFiles are the embedded migrations, for the tests that walk them.
var MigrationFiles = migrationFiles
