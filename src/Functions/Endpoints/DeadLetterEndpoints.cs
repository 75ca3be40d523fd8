using AgentCrm.Core.Orchestrations;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Functions.Endpoints;

/// <summary>/api/dead-letters: poison queue messages, tasks and instances of the workspace, for its admins.</summary>
public static class DeadLetterEndpoints
{
    private const string Tag = "Dead letters";

    public static void MapDeadLetterEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/dead-letters", (WorkspaceAccess access, DeadLetterManagement letters, string? source, string? queue, string? limit, string? cursor,
                CancellationToken cancellationToken) => letters.ListAsync(access, source, queue, limit, cursor, cancellationToken))
            .WithName("ListDeadLetters").WithTags(Tag).Produces<Page<DeadLetterView>>().ProducesProblems(400);
        app.MapGet("/api/dead-letters/{id}", (string id, WorkspaceAccess access, DeadLetterManagement letters, CancellationToken cancellationToken) =>
                letters.GetAsync(access, id, cancellationToken))
            .WithName("GetDeadLetter").WithTags(Tag).Produces<DeadLetterView>().ProducesProblems(404);
        app.MapPost("/api/dead-letters/{id}/replay", async (string id, WorkspaceAccess access, DeadLetterManagement letters, CancellationToken cancellationToken) =>
                Results.Accepted(value: await letters.ReplayAsync(access, id, cancellationToken)))
            .WithName("ReplayDeadLetter").WithTags(Tag).Produces<DeadLetterReplay>(StatusCodes.Status202Accepted).ProducesProblems(404, 409);
        app.MapDelete("/api/dead-letters/{id}", async (string id, WorkspaceAccess access, DeadLetterManagement letters, CancellationToken cancellationToken) =>
            {
                await letters.DiscardAsync(access, id, cancellationToken);
                return Results.NoContent();
            })
            .WithName("DiscardDeadLetter").WithTags(Tag).Produces(StatusCodes.Status204NoContent).ProducesProblems(404);
    }
}
