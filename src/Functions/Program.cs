using AgentCrm.Core.Platform.Configuration;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Functions;
using AgentCrm.Functions.Cli;

// Exit codes: 0 clean stop, 1 start-up failure (e.g. a migration), 2 usage, 78 configuration (sysexits EX_CONFIG).
try
{
    if (await CliVerbs.TryRunAsync(args, Console.Out, Console.Error, CancellationToken.None) is { } verbExit)
    {
        return verbExit;
    }

    await using var app = AgentCrmApp.Build(args);
    await app.RunAsync();
    return 0;
}
catch (ConfigurationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 78;
}
catch (MigrationException ex)
{
    await Console.Error.WriteLineAsync($"AgentCrm cannot start: {ex.Message}");
    return 1;
}
catch (Exception ex) when (ex is not OutOfMemoryException)
{
    // The host already logged it with its stack trace; stderr gets one line an operator can act on.
    await Console.Error.WriteLineAsync($"AgentCrm stopped on an unexpected error: {ex.GetType().Name}: {ex.Message}");
    return 1;
}
