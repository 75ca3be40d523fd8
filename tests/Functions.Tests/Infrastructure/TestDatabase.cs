using AgentCrm.Core.Platform.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AgentCrm.Functions.Tests.Infrastructure;

/// <summary>
/// A fresh database on the real PostgreSQL server that scripts/test starts, dropped afterwards. Each test
/// gets its own, so tests never share state. <see cref="ConnectionString"/> is the schema owner's login
/// (Postgres__Owner), <see cref="AppConnectionString"/> the app's (Postgres__Pooled), which owns no table.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string name, string connectionString, string appConnectionString, string adminConnectionString)
    {
        Name = name;
        ConnectionString = connectionString;
        AppConnectionString = appConnectionString;
        _adminConnectionString = adminConnectionString;
    }

    private readonly string _adminConnectionString;

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>The app's login on this database: a member of agentcrm_app, bound by row-level security.</summary>
    public string AppConnectionString { get; }

    public string Password => new NpgsqlConnectionStringBuilder(ConnectionString).Password ?? string.Empty;

    public static string ServerConnectionString => Variable("Postgres__Owner");

    private static string Variable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with scripts/test, which starts PostgreSQL and exports it.");

    public static async Task<TestDatabase> CreateAsync(bool migrate = false)
    {
        var admin = PostgresConnectionString.Parse(ServerConnectionString);
        admin.Pooling = false;
        var name = "agentcrm_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var target = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = name, Pooling = true };
        var app = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Parse(Variable("Postgres__Pooled")).ConnectionString) { Database = name, Pooling = true };
        var database = new TestDatabase(name, target.ConnectionString, app.ConnectionString, admin.ConnectionString);
        if (migrate)
        {
            await using var sources = database.DataSources();
            await new MigrationRunner(sources, MigrationCatalog.Embedded, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);
        }

        return database;
    }

    public PostgresDataSources DataSources() =>
        new(new PostgresOptions(ConnectionString, ConnectionString, 10, 30), NullLoggerFactory.Instance);

    /// <summary>Data sources as the app has them: its own login for work, the owner's for migrations.</summary>
    public PostgresDataSources AppDataSources() =>
        new(new PostgresOptions(AppConnectionString, AppConnectionString, 10, 30, Owner: ConnectionString), NullLoggerFactory.Instance);

    public async Task<T?> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)value;
    }

    public async ValueTask DisposeAsync()
    {
        // Idle pooled connections of this database would block the drop; the app login's cannot even be
        // terminated by the owner.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(AppConnectionString));
        NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString));
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException ex) when (attempt < 20 && ex.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectInUse)
            {
                // A backend this role may not signal (autovacuum after heavy churn) is still in the database: it leaves shortly.
                await Task.Delay(250);
            }
        }
    }
}
