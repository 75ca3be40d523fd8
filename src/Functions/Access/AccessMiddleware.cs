using System.Text.Json.Nodes;
using AgentCrm.Core.Audit;
using AgentCrm.Core.Identity;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Workspaces;
using AgentCrm.Functions.Traffic;
using AgentCrm.Core.Platform.RateLimiting;

namespace AgentCrm.Functions.Access;

/// <summary>
/// Authentication, then workspace resolution and the role check (DESIGN.md §3), by the endpoint's row in
/// <see cref="AccessRules"/>. A workspace named in the route that the caller cannot see is a 404, never a
/// 403, so ids from other workspaces reveal nothing. Refusals for role are audited as access.denied;
/// high-value calls as api.request once answered.
/// </summary>
public sealed partial class AccessMiddleware(
    RequestDelegate next,
    CallerAuthenticator authenticator,
    WorkspaceMembership membership,
    IAuditLog audit,
    TrafficCheck traffic,
    ILogger<AccessMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint() is not RouteEndpoint endpoint)
        {
            await next(context);
            return;
        }

        var rule = endpoint.Metadata.GetMetadata<AccessRule>() ?? AccessRules.Find(context.Request.Method, endpoint.RoutePattern.RawText);
        if (rule is null)
        {
            if (!context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
            {
                await next(context); // the Functions host's own invocations, on loopback only
                return;
            }

            // Fail closed: an endpoint nobody wrote a rule for is not served.
            LogNoRule(logger, context.Request.Method, endpoint.RoutePattern.RawText);
            await ProblemWriter.WriteAsync(context, ProblemTypes.Internal, "This endpoint has no access rule.");
            return;
        }

        if (rule.Audience == Audience.Anonymous)
        {
            await next(context);
            return;
        }

        var authentication = await authenticator.AuthenticateAsync(context.Request, context.RequestAborted);
        if (authentication.Caller is not { } caller)
        {
            // Failed credentials draw on the address's auth budget: guessing tokens costs like guessing passwords.
            if (await traffic.AdmitAsync(context, RatePolicies.Auth, null, null))
            {
                await Unauthorized(context, authentication.Failure);
            }

            return;
        }

        context.Features.Set(caller);
        if (caller.Kind == CallerKind.ApiKey && !rule.ApiKeys)
        {
            await Forbidden(context, rule, caller, caller.WorkspaceId, "API keys may not call this endpoint; sign in as a user.");
            return;
        }

        if (rule.Audience == Audience.Workspace)
        {
            var access = await ResolveWorkspaceAsync(context, rule, caller, authentication.KeyAccess);
            if (access is null)
            {
                return; // answered
            }

            context.Features.Set(access);
        }

        int? failedWith = null;
        try
        {
            await next(context);
        }
        catch (ProblemException problem)
        {
            failedWith = problem.Type.Status;
            throw;
        }
        catch (Exception)
        {
            failedWith = StatusCodes.Status500InternalServerError;
            throw;
        }
        finally
        {
            // A refused or failed high-value call is as much worth recording as one that went through.
            if (rule.HighValue && context.Features.Get<WorkspaceAccess>() is { } recorded)
            {
                await audit.AppendAsync(Audit(context, AuditEvents.ApiRequest, caller, recorded.WorkspaceId, rule,
                    new JsonObject { ["status"] = failedWith ?? context.Response.StatusCode }), CancellationToken.None);
            }
        }
    }

    private async Task<WorkspaceAccess?> ResolveWorkspaceAsync(HttpContext context, AccessRule rule, Caller caller, WorkspaceAccess? keyAccess)
    {
        var fromRoute = rule.WorkspaceRouteValue is { } name;
        Guid? workspaceId;
        if (fromRoute)
        {
            // A malformed id names no workspace anybody can see.
            workspaceId = Guid.TryParse(context.GetRouteValue(rule.WorkspaceRouteValue!) as string, out var id) ? id : null;
            if (workspaceId is null)
            {
                await ProblemWriter.WriteAsync(context, ProblemTypes.NotFound, "No such workspace.");
                return null;
            }
        }
        else if (context.Request.Headers.TryGetValue("X-Workspace-Id", out var header) && caller.Kind == CallerKind.User)
        {
            if (!Guid.TryParse(header.ToString(), out var chosen))
            {
                await ProblemWriter.WriteAsync(context, ProblemTypes.BadRequest, "X-Workspace-Id must be a workspace id (a UUID).");
                return null;
            }

            workspaceId = chosen;
        }
        else
        {
            workspaceId = caller.WorkspaceId;
        }

        if (workspaceId is null)
        {
            await ProblemWriter.WriteAsync(context, ProblemTypes.Forbidden,
                "No workspace is active: create one (POST /api/workspaces) or switch to one, or send X-Workspace-Id.");
            return null;
        }

        WorkspaceAccess? access;
        if (keyAccess is not null)
        {
            access = keyAccess.WorkspaceId == workspaceId ? keyAccess : null;
        }
        else
        {
            var found = await membership.FindAsync(workspaceId.Value, caller.UserId!.Value, context.RequestAborted);
            access = found is { } m ? new WorkspaceAccess(workspaceId.Value, m.Role, m.Tier, caller) : null;
        }

        if (access is null)
        {
            if (fromRoute)
            {
                await ProblemWriter.WriteAsync(context, ProblemTypes.NotFound, "No such workspace.");
            }
            else
            {
                await Forbidden(context, rule, caller, null, "You are not a member of the active workspace.");
            }

            return null;
        }

        if (access.Role < rule.MinRole)
        {
            await Forbidden(context, rule, caller, access.WorkspaceId, RoleTooLow(rule, caller, access.Role));
            return null;
        }

        return access;
    }

    private static string RoleTooLow(AccessRule rule, Caller caller, WorkspaceRole role) =>
        $"This needs the {rule.MinRole.ToWire()} role or higher{(caller.Kind == CallerKind.ApiKey ? " (a key's scope grants: read viewer, write member, admin admin)" : string.Empty)}; you have {role.ToWire()}.";

    private static Task Unauthorized(HttpContext context, TokenFailure failure)
    {
        var detail = failure == TokenFailure.None
            ? "Send Authorization: Bearer <access token or API key>, or X-Api-Key: <API key>."
            : failure.Describe();
        context.Response.Headers.WWWAuthenticate = failure == TokenFailure.None
            ? "Bearer"
            : $"Bearer error=\"invalid_token\", error_description=\"{detail}\"";
        return ProblemWriter.WriteAsync(context, ProblemTypes.Unauthorized, detail).AsTask();
    }

    private async Task Forbidden(HttpContext context, AccessRule rule, Caller caller, Guid? workspaceId, string detail)
    {
        await audit.AppendAsync(Audit(context, AuditEvents.AccessDenied, caller, workspaceId, rule, new JsonObject { ["reason"] = detail }), context.RequestAborted);
        await ProblemWriter.WriteAsync(context, ProblemTypes.Forbidden, detail);
    }

    private static AuditEvent Audit(HttpContext context, string name, Caller caller, Guid? workspaceId, AccessRule rule, JsonObject details)
    {
        details["method"] = rule.Method;
        details["route"] = rule.Route;
        details["path"] = context.Request.Path.Value;
        return new AuditEvent(workspaceId, name, caller.UserId, caller.ApiKeyId, context.Connection.RemoteIpAddress?.ToString(),
            context.TraceIdentifier, details);
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "No access rule for {Method} {Route}: refused")]
    private static partial void LogNoRule(ILogger logger, string method, string? route);
}
