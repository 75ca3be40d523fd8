using AgentCrm.Core.Audit;
using AgentCrm.Core.Platform.Security;
using Microsoft.AspNetCore.Mvc;

namespace AgentCrm.Functions.Endpoints;

/// <summary>
/// The workspace's audit log, for its admins (AccessRules): list with filters and cursor paging, and
/// recompute the chain. `from` is inclusive and `to` exclusive; `cursor` is a previous page's nextCursor.
/// </summary>
public static class AuditEndpoints
{
    public static void MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/audit", async (
            WorkspaceAccess access,
            [FromQuery(Name = "event")] string? eventName,
            string? actor,
            string? from,
            string? to,
            string? limit,
            string? cursor,
            AuditReader reader,
            CancellationToken cancellationToken) =>
        {
            var filter = AuditReader.ParseFilter(eventName, actor, from, to, limit, cursor);
            return Results.Ok(await reader.ListAsync(access.WorkspaceId, access.Caller.UserId, filter, cancellationToken));
        });

        app.MapPost("/api/audit/verify", async (WorkspaceAccess access, AuditVerifier verifier, CancellationToken cancellationToken) =>
            Results.Ok(await verifier.VerifyAsync(access.WorkspaceId, access.Caller.UserId, cancellationToken)));
    }
}
