namespace AgentCrm.Functions.Cli;

/// <summary>Finds the verb in args[0], answers --help, and reports unknown verbs with the list of known ones.</summary>
public static class CliVerbs
{
    /// <summary>Exit code for a usage error.</summary>
    public const int UsageError = 2;

    public static IReadOnlyList<CliVerb> All { get; } = [new MigrateVerb(), new FunctionsJsonVerb(), new AuditVerifyVerb(), new DemoSeedVerb()];

    /// <summary>True when args name a verb (or ask for help); the verb's exit code is in <paramref name="exitCode"/>.</summary>
    public static async Task<int?> TryRunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (args.Length == 0 || (args[0].StartsWith('-') && args[0] is not ("--help" or "-h")))
        {
            return null; // serve; ASP.NET Core reads options such as --urls
        }

        if (args[0] is "--help" or "-h" or "help")
        {
            await output.WriteLineAsync(Overview());
            return 0;
        }

        var verb = All.FirstOrDefault(v => v.Name == args[0]);
        if (verb is null)
        {
            await error.WriteLineAsync($"Unknown verb \"{args[0]}\".{Environment.NewLine}{Overview()}");
            return UsageError;
        }

        var rest = args[1..];
        if (rest.Any(a => a is "--help" or "-h"))
        {
            await output.WriteLineAsync(verb.Usage);
            return 0;
        }

        return await verb.RunAsync(rest, output, error, cancellationToken);
    }

    private static string Overview() =>
        "Usage: AgentCrm.Functions [VERB] [options]" + Environment.NewLine +
        "With no verb the app serves HTTP (the Functions custom handler)." + Environment.NewLine + Environment.NewLine +
        "Verbs:" + Environment.NewLine +
        string.Join(Environment.NewLine, All.Select(v => $"  {v.Name,-16}{v.Summary}")) + Environment.NewLine +
        "Run VERB --help for its options.";
}
