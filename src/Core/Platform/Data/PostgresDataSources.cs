using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentCrm.Core.Platform.Data;

/// <summary>
/// The two singleton data sources (DESIGN.md §4). Pooled is safe behind PgBouncer in transaction mode:
/// no reset on close, no automatic preparation, no session state outside a transaction. Direct is a
/// small pool of real sessions for migrations, advisory locks and LISTEN.
/// </summary>
public sealed class PostgresDataSources : IAsyncDisposable
{
    public PostgresDataSources(PostgresOptions options, ILoggerFactory loggerFactory)
    {
        Pooled = Build(options.Pooled, options, loggerFactory, "agentcrm", builder =>
        {
            builder.NoResetOnClose = true;
            builder.MaxAutoPrepare = options.MaxAutoPrepare;
            builder.MaxPoolSize = options.MaxPoolSize;
        });
        Direct = Build(options.Direct, options, loggerFactory, "agentcrm-direct", builder =>
        {
            builder.MaxPoolSize = Math.Min(options.MaxPoolSize, 10);
            builder.KeepAlive = 30;
        });
        _options = options;
        _loggerFactory = loggerFactory;
    }

    private readonly PostgresOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private NpgsqlDataSource? _owner;

    /// <summary>
    /// For migrations only, as the schema owner; built on first use and unpooled, since the app needs it
    /// at most once per start (or never, when the deploy pipeline migrates).
    /// </summary>
    public NpgsqlDataSource Owner => LazyInitializer.EnsureInitialized(ref _owner, () =>
        Build(_options.MigrationConnectionString, _options, _loggerFactory, "agentcrm-migrations", builder => builder.Pooling = false));

    /// <summary>For request work: through PgBouncer in Azure.</summary>
    public NpgsqlDataSource Pooled { get; }

    /// <summary>For migrations, session-level advisory locks and LISTEN.</summary>
    public NpgsqlDataSource Direct { get; }

    private static NpgsqlDataSource Build(
        string connectionString, PostgresOptions options, ILoggerFactory loggerFactory, string applicationName,
        Action<NpgsqlConnectionStringBuilder> tune)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString)
        {
            CommandTimeout = options.CommandTimeoutSeconds,
        };
        if (string.IsNullOrEmpty(csb.ApplicationName))
        {
            csb.ApplicationName = applicationName;
        }

        if (csb.Timeout == 15)
        {
            csb.Timeout = 5; // fail fast on an unreachable server; readiness reports it
        }

        tune(csb);
        var builder = new NpgsqlDataSourceBuilder(csb.ConnectionString);
        builder.UseLoggerFactory(loggerFactory);
        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        await Pooled.DisposeAsync();
        await Direct.DisposeAsync();
        if (_owner is not null)
        {
            await _owner.DisposeAsync();
        }
    }
}
