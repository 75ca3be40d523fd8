using System.Globalization;
using System.Text.Json;
using AgentCrm.Core.Orchestrations;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace AgentCrm.Functions.Endpoints;

/// <summary>
/// /api/orchestrations: Durable Functions' management API (research/durable-engine.md §1.8) for a workspace's
/// admins. A start answers 202 with Location, Retry-After and the check-status links; a status answers 202
/// while the instance runs and 200 once it has finished.
/// </summary>
public static class OrchestrationEndpoints
{
    private const string Tag = "Orchestrations";
    private const string StartRetryAfter = "10";
    private const string StatusRetryAfter = "5";

    public static void MapOrchestrationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/orchestrations", Start).WithName("StartOrchestration").WithTags(Tag)
            .Produces<CheckStatusLinks>(StatusCodes.Status202Accepted).ProducesProblems(400, 409, 413);
        app.MapGet("/api/orchestrations", List).WithName("ListOrchestrations").WithTags(Tag)
            .Produces<Page<OrchestrationState>>().ProducesProblems(400);
        app.MapDelete("/api/orchestrations", PurgeMany).WithName("PurgeOrchestrations").WithTags(Tag)
            .Produces<PurgeResult>().ProducesProblems(400, 404);
        app.MapGet("/api/orchestrations/{instanceId}", Get).WithName("GetOrchestration").WithTags(Tag)
            .Produces<OrchestrationState>().Produces<OrchestrationState>(StatusCodes.Status202Accepted).ProducesProblems(400, 404);
        app.MapDelete("/api/orchestrations/{instanceId}", Purge).WithName("PurgeOrchestration").WithTags(Tag)
            .Produces<PurgeResult>().ProducesProblems(404, 409);
        app.MapPost("/api/orchestrations/{instanceId}/raiseEvent/{eventName}", RaiseEvent).WithName("RaiseOrchestrationEvent").WithTags(Tag)
            .Accepts<JsonElement>("application/json").Produces(StatusCodes.Status202Accepted).ProducesProblems(400, 404, 410, 413);
        app.MapPost("/api/orchestrations/{instanceId}/terminate", Terminate).WithName("TerminateOrchestration").WithTags(Tag)
            .Produces(StatusCodes.Status202Accepted).ProducesProblems(400, 404, 410);
        app.MapPost("/api/orchestrations/{instanceId}/suspend", Suspend).WithName("SuspendOrchestration").WithTags(Tag)
            .Produces(StatusCodes.Status202Accepted).ProducesProblems(400, 404, 410);
        app.MapPost("/api/orchestrations/{instanceId}/resume", Resume).WithName("ResumeOrchestration").WithTags(Tag)
            .Produces(StatusCodes.Status202Accepted).ProducesProblems(400, 404, 410);
        app.MapPost("/api/orchestrations/{instanceId}/rewind", Rewind).WithName("RewindOrchestration").WithTags(Tag)
            .Produces(StatusCodes.Status202Accepted).ProducesProblems(400, 404, 409, 410);
        app.MapPost("/api/orchestrations/{instanceId}/restart", Restart).WithName("RestartOrchestration").WithTags(Tag)
            .Produces<CheckStatusLinks>(StatusCodes.Status202Accepted).ProducesProblems(400, 404, 409);
    }

    private static async Task<IResult> Start(StartOrchestration body, WorkspaceAccess access, OrchestrationManagement management, HttpContext http, CancellationToken cancellationToken)
    {
        var id = await management.StartAsync(access, body, Base(http) + "/api/orchestrations/{0}", cancellationToken);
        return Accepted(http, id);
    }

    private static Task<Page<OrchestrationState>> List(
        WorkspaceAccess access, OrchestrationManagement management, string? runtimeStatus, string? name, string? createdTimeFrom, string? createdTimeTo,
        string? instanceIdPrefix, string? showInput, string? limit, string? cursor, CancellationToken cancellationToken) =>
        management.ListAsync(access, OrchestrationQueryParser.ParseQuery(runtimeStatus, name, createdTimeFrom, createdTimeTo, instanceIdPrefix, showInput, limit, cursor),
            cancellationToken);

    private static Task<PurgeResult> PurgeMany(
        WorkspaceAccess access, OrchestrationManagement management, string? createdTimeFrom, string? createdTimeTo, string? runtimeStatus, CancellationToken cancellationToken) =>
        management.PurgeAsync(access, OrchestrationQueryParser.ParsePurge(createdTimeFrom, createdTimeTo, runtimeStatus), cancellationToken);

    private static async Task<IResult> Get(
        string instanceId, WorkspaceAccess access, OrchestrationManagement management, HttpContext http, string? showInput, string? showHistory, string? showHistoryOutput,
        CancellationToken cancellationToken)
    {
        var errors = new Core.Platform.Problems.ValidationErrors();
        var (input, history, output) = (OrchestrationQueryParser.Flag(errors, "showInput", showInput ?? "true"),
            OrchestrationQueryParser.Flag(errors, "showHistory", showHistory), OrchestrationQueryParser.Flag(errors, "showHistoryOutput", showHistoryOutput));
        errors.ThrowIfAny();
        var state = await management.GetAsync(access, instanceId, input, history, output, cancellationToken);
        if (state.RuntimeStatus is "Completed" or "Failed" or "Terminated")
        {
            return Results.Ok(state);
        }

        http.Response.Headers.Location = StatusUri(http, instanceId);
        http.Response.Headers.RetryAfter = StatusRetryAfter;
        return Results.Json(state, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<PurgeResult> Purge(string instanceId, WorkspaceAccess access, OrchestrationManagement management, CancellationToken cancellationToken) =>
        await management.PurgeAsync(access, instanceId, cancellationToken);

    private static async Task<IResult> RaiseEvent(
        string instanceId, string eventName, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] JsonElement? body, WorkspaceAccess access,
        OrchestrationManagement management, CancellationToken cancellationToken)
    {
        await management.RaiseEventAsync(access, instanceId, eventName, body, cancellationToken);
        return Results.Accepted();
    }

    private static async Task<IResult> Terminate(string instanceId, string? reason, WorkspaceAccess access, OrchestrationManagement management, CancellationToken cancellationToken)
    {
        await management.TerminateAsync(access, instanceId, reason, cancellationToken);
        return Results.Accepted();
    }

    private static async Task<IResult> Suspend(string instanceId, string? reason, WorkspaceAccess access, OrchestrationManagement management, CancellationToken cancellationToken)
    {
        await management.SuspendAsync(access, instanceId, reason, cancellationToken);
        return Results.Accepted();
    }

    private static async Task<IResult> Resume(string instanceId, string? reason, WorkspaceAccess access, OrchestrationManagement management, CancellationToken cancellationToken)
    {
        await management.ResumeAsync(access, instanceId, reason, cancellationToken);
        return Results.Accepted();
    }

    private static async Task<IResult> Rewind(string instanceId, string? reason, WorkspaceAccess access, OrchestrationManagement management, CancellationToken cancellationToken)
    {
        await management.RewindAsync(access, instanceId, reason, cancellationToken);
        return Results.Accepted();
    }

    private static async Task<IResult> Restart(
        string instanceId, string? restartWithNewInstanceId, WorkspaceAccess access, OrchestrationManagement management, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = new Core.Platform.Problems.ValidationErrors();
        var newId = OrchestrationQueryParser.Flag(errors, "restartWithNewInstanceId", restartWithNewInstanceId);
        errors.ThrowIfAny();
        return Accepted(http, await management.RestartAsync(access, instanceId, newId, cancellationToken));
    }

    private static IResult Accepted(HttpContext http, string instanceId)
    {
        var status = StatusUri(http, instanceId);
        http.Response.Headers.RetryAfter = StartRetryAfter;
        return Results.Accepted(status, new CheckStatusLinks(instanceId, status, status + "/raiseEvent/{eventName}", status + "/terminate?reason={text}", status,
            status + "/restart", status + "/suspend?reason={text}", status + "/resume?reason={text}", status + "/rewind?reason={text}"));
    }

    private static string StatusUri(HttpContext http, string instanceId) =>
        string.Create(CultureInfo.InvariantCulture, $"{Base(http)}/api/orchestrations/{Uri.EscapeDataString(instanceId)}");

    private static string Base(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}";
}
