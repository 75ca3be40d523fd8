using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Workspaces;
using Microsoft.AspNetCore.Mvc;

namespace AgentCrm.Functions.Endpoints;

public sealed record WorkspaceNameRequest(string? Name);

public sealed record ItemsResponse<T>(IReadOnlyList<T> Items);

/// <summary>Workspaces: create, list mine, get, rename, switch. Members, invitations and keys: <see cref="MemberEndpoints"/>.</summary>
public static class WorkspaceEndpoints
{
    public static void MapWorkspaceEndpoints(this IEndpointRouteBuilder app)
    {
        var workspaces = app.MapGroup("/api/workspaces").WithTags("Workspaces");
        workspaces.MapPost("", async ([FromBody] WorkspaceNameRequest request, Caller caller, WorkspaceService service, CancellationToken cancellationToken) =>
            {
                var created = await service.CreateAsync(caller, request.Name, cancellationToken);
                return Results.Created($"/api/workspaces/{created.Id}", created);
            })
            .WithName("CreateWorkspace").Produces<WorkspaceView>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(401).ProducesProblem(403);

        workspaces.MapGet("", async (Caller caller, WorkspaceService service, CancellationToken cancellationToken) =>
                Results.Ok(new ItemsResponse<WorkspaceView>(await service.ListMineAsync(caller, cancellationToken))))
            .WithName("ListMyWorkspaces").Produces<ItemsResponse<WorkspaceView>>().ProducesProblem(401).ProducesProblem(403);

        workspaces.MapGet("/{workspaceId}", async (WorkspaceAccess access, WorkspaceService service, CancellationToken cancellationToken) =>
                Results.Ok(await service.GetAsync(access, cancellationToken)))
            .WithName("GetWorkspace").Produces<WorkspaceView>().ProducesProblem(401).ProducesProblem(404);

        workspaces.MapPatch("/{workspaceId}", async ([FromBody] WorkspaceNameRequest request, WorkspaceAccess access, WorkspaceService service, HttpContext context, CancellationToken cancellationToken) =>
                Results.Ok(await service.RenameAsync(access, request.Name, context.Origin(), cancellationToken)))
            .WithName("RenameWorkspace").Produces<WorkspaceView>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);

        workspaces.MapPost("/{workspaceId}/switch", async (WorkspaceAccess access, WorkspaceService service, HttpContext context, CancellationToken cancellationToken) =>
                Results.Ok(await service.SwitchAsync(access, context.Origin(), cancellationToken)))
            .WithName("SwitchWorkspace").Produces<WorkspaceSwitched>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);
    }
}
