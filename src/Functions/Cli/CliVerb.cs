namespace AgentCrm.Functions.Cli;

/// <summary>A command-line verb of the app (`dotnet AgentCrm.Functions.dll VERB ...`); no verb means serve.</summary>
public abstract class CliVerb
{
    public abstract string Name { get; }

    public abstract string Summary { get; }

    public abstract string Usage { get; }

    public abstract Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken);
}
