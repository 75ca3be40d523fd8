using System.Text.Json.Nodes;
using AgentCrm.Core.Platform.Hosting;
using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Functions.CustomHandler;
using Microsoft.Extensions.Options;

namespace AgentCrm.Functions.HostFunctions;

/// <summary>
/// Timer function, every five minutes: runs the registered housekeeping jobs. On a slot whose background
/// switch is off it does nothing and says so. The invocation fails when any job failed, after all ran.
/// </summary>
public sealed class MaintenanceFunction(HousekeepingRunner runner, IOptions<BackgroundOptions> background) : HostFunction
{
    public const string Schedule = "0 */5 * * * *";
    private const string TriggerBinding = "timer";

    public static HostFunctionDefinition Definition { get; } = new("Maintenance", TriggerBinding,
    [
        new JsonObject
        {
            ["type"] = "timerTrigger", ["direction"] = "in", ["name"] = TriggerBinding, ["schedule"] = Schedule,
            ["runOnStartup"] = false, ["useMonitor"] = true,
        },
    ], typeof(MaintenanceFunction));

    public override async Task<HostInvocationResult> InvokeAsync(HostInvocation invocation, CancellationToken cancellationToken)
    {
        if (!background.Value.Enabled)
        {
            return HostInvocationResult.Succeeded(["Background work is switched off on this slot (Background__Enabled=false); no jobs run."]);
        }

        var pastDue = invocation.Input(TriggerBinding)?["IsPastDue"]?.GetValueKind() == System.Text.Json.JsonValueKind.True;
        var logs = new List<string>();
        if (pastDue)
        {
            logs.Add("Timer is past due; running now.");
        }

        var outcomes = await runner.RunAllAsync(cancellationToken);
        logs.AddRange(outcomes.Select(o => $"{o.Job}: {o.Result.ToString().ToLowerInvariant()} in {o.Duration.TotalMilliseconds:0} ms. {o.Detail}"));
        var failed = outcomes.Where(o => o.Result == JobResult.Failed).Select(o => o.Job).ToList();
        return failed.Count == 0
            ? HostInvocationResult.Succeeded(logs)
            : HostInvocationResult.Failure($"{failed.Count} housekeeping job(s) failed: {string.Join(", ", failed)}.", logs);
    }
}
