using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentCrm.Core.Platform.Data;

/// <summary>
/// Applies the embedded migrations in order under one session-level advisory lock, so concurrent
/// runners (two instances starting, a deploy step racing a local run) take turns and the second finds
/// nothing to do. Each file runs in its own transaction with its schema_migrations row, and an applied
/// file whose text changed is refused: applied migrations are immutable (expand, then contract later).
/// </summary>
public sealed partial class MigrationRunner(PostgresDataSources dataSources, MigrationCatalog catalog, ILogger<MigrationRunner> logger)
{
    /// <summary>"AGENTCRM" in ASCII: one lock key for the whole database.</summary>
    internal const long AdvisoryLockKey = 0x4147454E5443524D;

    private const string CreateTableSql = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     integer PRIMARY KEY,
            name        text        NOT NULL,
            checksum    text        NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now(),
            duration_ms integer     NOT NULL
        )
        """;

    public async Task<MigrationReport> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Owner.OpenConnectionAsync(cancellationToken);
        await AcquireLockAsync(connection, cancellationToken);
        try
        {
            await ExecuteAsync(connection, CreateTableSql, cancellationToken);
            var applied = await ReadAppliedAsync(connection, cancellationToken);
            Verify(applied);

            var newlyApplied = new List<Migration>();
            foreach (var migration in catalog.Migrations.Where(m => !applied.ContainsKey(m.Version)))
            {
                await ApplyAsync(connection, migration, cancellationToken);
                newlyApplied.Add(migration);
            }

            return new MigrationReport(applied.Count, newlyApplied, catalog.LatestVersion);
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    /// <summary>What the database holds compared with this build, without changing anything (for health and `migrate --status`).</summary>
    public async Task<MigrationState> InspectAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('schema_migrations') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return new MigrationState(catalog.LatestVersion, 0, [.. catalog.Migrations.Select(m => m.Name)], []);
            }
        }

        var applied = await ReadAppliedAsync(connection, cancellationToken);
        var pending = catalog.Migrations.Where(m => !applied.ContainsKey(m.Version)).Select(m => m.Name).ToList();
        var edited = catalog.Migrations
            .Where(m => applied.TryGetValue(m.Version, out var row) && row.Checksum != m.Checksum)
            .Select(m => m.Name).ToList();
        var highest = applied.Count == 0 ? 0 : applied.Keys.Max();
        return new MigrationState(catalog.LatestVersion, highest, pending, edited);
    }

    private async Task AcquireLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({AdvisoryLockKey})", connection);
        if ((bool)(await tryLock.ExecuteScalarAsync(cancellationToken))!)
        {
            return;
        }

        LogWaitingForLock(logger);
        await using var wait = new NpgsqlCommand($"SELECT pg_advisory_lock({AdvisoryLockKey})", connection) { CommandTimeout = 0 };
        await wait.ExecuteNonQueryAsync(cancellationToken);
    }

    private void Verify(Dictionary<int, AppliedMigration> applied)
    {
        foreach (var migration in catalog.Migrations)
        {
            if (applied.TryGetValue(migration.Version, out var row) && (row.Checksum != migration.Checksum || row.Name != migration.Name))
            {
                throw new MigrationException(
                    $"Migration {migration.Name}.sql was changed after it was applied (database has {row.Name} with checksum " +
                    $"{Abbreviate(row.Checksum)}, this build has {Abbreviate(migration.Checksum)}). Applied migrations are immutable: " +
                    "restore the original file and put the change in a new migration.");
            }
        }

        var unknown = applied.Keys.Where(v => v > catalog.LatestVersion).ToList();
        if (unknown.Count > 0)
        {
            // A newer release migrated first (expand-only, so this build still works): say so, carry on.
            var versions = string.Join(", ", unknown.Order());
            LogNewerMigrationsPresent(logger, versions, catalog.LatestVersion);
        }
    }

    private static string Abbreviate(string checksum) => checksum.Length <= 12 ? checksum : checksum[..12] + "…";

    private async Task ApplyAsync(NpgsqlConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await using var transaction = migration.Transactional ? await connection.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            await ExecuteAsync(connection, migration.Sql, cancellationToken, transaction);
            var elapsed = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await using var record = new NpgsqlCommand(
                "INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)", connection, transaction)
            {
                Parameters = { new() { Value = migration.Version }, new() { Value = migration.Name }, new() { Value = migration.Checksum }, new() { Value = elapsed } },
            };
            await record.ExecuteNonQueryAsync(cancellationToken);
            if (transaction is not null)
            {
                await transaction.CommitAsync(cancellationToken);
            }

            LogApplied(logger, migration.Name, elapsed);
        }
        catch (PostgresException ex)
        {
            throw new MigrationException($"Migration {migration.Name}.sql failed: {ex.SqlState} {ex.MessageText}" +
                (ex.Position > 0 ? $" (at character {ex.Position})" : string.Empty), ex);
        }
    }

    private static async Task<Dictionary<int, AppliedMigration>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, AppliedMigration>();
        await using var command = new NpgsqlCommand("SELECT version, name, checksum FROM schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[reader.GetInt32(0)] = new AppliedMigration(reader.GetString(1), reader.GetString(2));
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed record AppliedMigration(string Name, string Checksum);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Another migration run holds the lock; waiting for it to finish")]
    private static partial void LogWaitingForLock(ILogger logger);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Applied migration {Migration} in {DurationMs} ms")]
    private static partial void LogApplied(ILogger logger, string migration, int durationMs);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Database has migrations {Versions} newer than this build's latest {Latest}; continuing (migrations are expand-only)")]
    private static partial void LogNewerMigrationsPresent(ILogger logger, string versions, int latest);
}

/// <summary>The outcome of one run: how many were already there and which this run applied.</summary>
public sealed record MigrationReport(int AlreadyApplied, IReadOnlyList<Migration> Applied, int LatestVersion);

/// <summary>The database against this build: ready when nothing is pending and nothing applied was edited.</summary>
public sealed record MigrationState(int ExpectedVersion, int DatabaseVersion, IReadOnlyList<string> Pending, IReadOnlyList<string> Edited)
{
    public bool IsCurrent => Pending.Count == 0 && Edited.Count == 0;
}
