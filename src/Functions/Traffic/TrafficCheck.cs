using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Usage;

namespace AgentCrm.Functions.Traffic;

/// <summary>
/// The one way a request is admitted by rate limit and quota: decide, add the headers, and answer the
/// 429 when refused. The traffic middleware runs it for every limited endpoint; the access middleware
/// runs it on the auth policy for a request whose credentials failed, so a flood of bad tokens from one
/// address is throttled like a flood of bad passwords.
/// </summary>
public sealed class TrafficCheck(TrafficGate gate, RateLimitOptions options, TimeProvider time)
{
    public bool IsActive => gate.IsActive;

    /// <summary>True when the request may go on; false when the 429 has been written.</summary>
    public async Task<bool> AdmitAsync(HttpContext context, string policy, Caller? caller, WorkspaceAccess? access)
    {
        if (!gate.IsActive)
        {
            return true;
        }

        var verdict = await gate.CheckAsync(policy, caller, access, ClientAddress.Resolve(context, options.TrustedProxyHops), context.RequestAborted);
        TrafficResponses.AddHeaders(context, verdict, time);
        if (verdict.Outcome == TrafficOutcome.Allowed)
        {
            return true;
        }

        await TrafficResponses.RefuseAsync(context, verdict, time);
        return false;
    }
}
