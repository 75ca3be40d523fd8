using AgentCrm.Core.Audit;
using AgentCrm.Core.Platform.Configuration;
using AgentCrm.Core.Platform.Data;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Functions.Cli;

/// <summary>
/// `audit-verify [--workspace ID]`: recomputes the audit hash chains (every workspace's and the platform's,
/// or one) as the schema owner, and names the first broken link of each chain that does not hold.
/// </summary>
public sealed class AuditVerifyVerb : CliVerb
{
    public const int Broken = 1;

    public override string Name => "audit-verify";

    public override string Summary => "Recompute the audit log's hash chains and name the first broken link.";

    public override string Usage => """
        Usage: AgentCrm.Functions audit-verify [--workspace ID]

        Recomputes every audit chain (each workspace's, and the platform's under the nil UUID), or only
        the workspace given, from its retention anchor to its head, and prints one line per chain.
        Connects as the schema owner: Postgres__Owner (falls back to Postgres__Direct, then Postgres__Pooled).

          --workspace ID   Check this workspace's chain only.

        Exit codes: 0 every chain holds, 1 a chain is broken, 2 usage, 78 configuration.
        """;

    public override async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        Guid? workspace = null;
        if (args.Length == 2 && args[0] == "--workspace" && Guid.TryParse(args[1], out var id))
        {
            workspace = id;
        }
        else if (args.Length != 0)
        {
            await error.WriteLineAsync($"Expected no options or --workspace <UUID>, got \"{string.Join(' ', args)}\".{Environment.NewLine}{Usage}");
            return CliVerbs.UsageError;
        }

        await using var dataSources = DatabaseFromEnvironment();
        var chains = await AuditVerifier.VerifyAsOwnerAsync(dataSources.Owner, workspace, cancellationToken);
        foreach (var chain in chains)
        {
            await output.WriteLineAsync(chain.Valid
                ? $"{chain.WorkspaceId}: valid, {chain.Checked} row(s) checked"
                : $"{chain.WorkspaceId}: BROKEN at seq {chain.FirstBrokenSeq}: {chain.Reason} ({chain.Checked} row(s) checked)");
        }

        var broken = chains.Count(c => !c.Valid);
        await output.WriteLineAsync(broken == 0
            ? $"All {chains.Count} audit chain(s) verify."
            : $"{broken} of {chains.Count} audit chain(s) are broken.");
        return broken == 0 ? 0 : Broken;
    }
}
