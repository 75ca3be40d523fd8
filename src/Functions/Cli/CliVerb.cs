using AgentCrm.Core.Platform.Configuration;
using AgentCrm.Core.Platform.Data;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Functions.Cli;

/// <summary>A command-line verb of the app (`dotnet AgentCrm.Functions.dll VERB ...`); no verb means serve.</summary>
public abstract class CliVerb
{
    public abstract string Name { get; }

    public abstract string Summary { get; }

    public abstract string Usage { get; }

    public abstract Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken);

    /// <summary>
    /// PostgreSQL for a verb that needs only the database: the Postgres__* environment, validated like the
    /// app's (throws <see cref="ConfigurationException"/>, exit 78), without the rest of the app's settings.
    /// </summary>
    protected static PostgresDataSources DatabaseFromEnvironment()
    {
        var reader = new SettingsReader(new ConfigurationBuilder().AddEnvironmentVariables().Build());
        var options = PostgresOptions.Read(reader);
        reader.ThrowIfProblems();
        return new PostgresDataSources(options, NullLoggerFactory.Instance);
    }
}
