using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Workspaces;
using Microsoft.AspNetCore.Mvc;

namespace AgentCrm.Functions.Endpoints;

public sealed record RoleRequest(string? Role);

public sealed record InvitationRequest(string? Email, string? Role);

public sealed record AcceptInvitationRequest(string? Token);

public sealed record ApiKeyRequest(string? Name, string[]? Scopes);

/// <summary>A workspace's members, invitations and API keys.</summary>
public static class MemberEndpoints
{
    public static void MapMemberEndpoints(this IEndpointRouteBuilder app)
    {
        var workspace = app.MapGroup("/api/workspaces/{workspaceId}").WithTags("Members");
        workspace.MapGet("/members", async (WorkspaceAccess access, MemberService members, CancellationToken cancellationToken) =>
                Results.Ok(new ItemsResponse<MemberView>(await members.ListAsync(access, cancellationToken))))
            .WithName("ListMembers").Produces<ItemsResponse<MemberView>>().ProducesProblem(401).ProducesProblem(404);

        workspace.MapPatch("/members/{userId}", async (string userId, [FromBody] RoleRequest request, WorkspaceAccess access, MemberService members, HttpContext context, CancellationToken cancellationToken) =>
                Results.Ok(await members.ChangeRoleAsync(access, userId, request.Role, context.Origin(), cancellationToken)))
            .WithName("ChangeMemberRole").Produces<MemberView>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        workspace.MapDelete("/members/{userId}", async (string userId, WorkspaceAccess access, MemberService members, HttpContext context, CancellationToken cancellationToken) =>
            {
                await members.RemoveAsync(access, userId, context.Origin(), cancellationToken);
                return Results.NoContent();
            })
            .WithName("RemoveMember").Produces(StatusCodes.Status204NoContent).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        workspace.MapGet("/invitations", async (WorkspaceAccess access, InvitationService invitations, CancellationToken cancellationToken) =>
                Results.Ok(new ItemsResponse<InvitationView>(await invitations.ListPendingAsync(access, cancellationToken))))
            .WithTags("Invitations").WithName("ListInvitations").Produces<ItemsResponse<InvitationView>>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);

        workspace.MapPost("/invitations", async ([FromBody] InvitationRequest request, WorkspaceAccess access, InvitationService invitations, HttpContext context, CancellationToken cancellationToken) =>
            {
                var created = await invitations.CreateAsync(access, request.Email, request.Role, context.Origin(), cancellationToken);
                return Results.Created($"/api/workspaces/{access.WorkspaceId}/invitations/{created.Id}", created);
            })
            .WithTags("Invitations").WithName("CreateInvitation").Produces<CreatedInvitation>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);

        workspace.MapDelete("/invitations/{invitationId}", async (string invitationId, WorkspaceAccess access, InvitationService invitations, HttpContext context, CancellationToken cancellationToken) =>
            {
                await invitations.RevokeAsync(access, invitationId, context.Origin(), cancellationToken);
                return Results.NoContent();
            })
            .WithTags("Invitations").WithName("RevokeInvitation").Produces(StatusCodes.Status204NoContent).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);

        app.MapPost("/api/invitations/accept", async ([FromBody] AcceptInvitationRequest request, Caller caller, InvitationService invitations, HttpContext context, CancellationToken cancellationToken) =>
                Results.Ok(await invitations.AcceptAsync(caller, request.Token, context.Origin(), cancellationToken)))
            .WithTags("Invitations").WithName("AcceptInvitation").Produces<InvitationAccepted>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(410);

        var keys = workspace.MapGroup("/api-keys").WithTags("API keys");
        keys.MapGet("", async (WorkspaceAccess access, ApiKeyService service, CancellationToken cancellationToken) =>
                Results.Ok(new ItemsResponse<ApiKeyView>(await service.ListAsync(access, cancellationToken))))
            .WithName("ListApiKeys").Produces<ItemsResponse<ApiKeyView>>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);

        keys.MapPost("", async ([FromBody] ApiKeyRequest request, WorkspaceAccess access, ApiKeyService service, HttpContext context, CancellationToken cancellationToken) =>
            {
                var created = await service.CreateAsync(access, request.Name, request.Scopes, context.Origin(), cancellationToken);
                return Results.Created($"/api/workspaces/{access.WorkspaceId}/api-keys/{created.Id}", created);
            })
            .WithName("CreateApiKey").Produces<CreatedApiKey>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);

        keys.MapDelete("/{keyId}", async (string keyId, WorkspaceAccess access, ApiKeyService service, HttpContext context, CancellationToken cancellationToken) =>
            {
                await service.RevokeAsync(access, keyId, context.Origin(), cancellationToken);
                return Results.NoContent();
            })
            .WithName("RevokeApiKey").Produces(StatusCodes.Status204NoContent).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);
    }
}
