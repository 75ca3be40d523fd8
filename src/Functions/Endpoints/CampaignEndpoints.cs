using AgentCrm.Core.Campaigns;
using AgentCrm.Core.Contacts;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;
using static AgentCrm.Functions.Endpoints.EndpointConventions;

namespace AgentCrm.Functions.Endpoints;

/// <summary>
/// /api/campaigns: thin over <see cref="CampaignService"/>. Status changes only through /transitions;
/// PATCH and transitions honour If-Match (412 on mismatch).
/// </summary>
public static class CampaignEndpoints
{
    public static void MapCampaignEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/campaigns", List).WithName("ListCampaigns").WithTags("Campaigns")
            .Produces<Page<Campaign>>().ProducesProblems(400);
        app.MapPost("/api/campaigns", Create).WithName("CreateCampaign").WithTags("Campaigns")
            .Produces<Campaign>(StatusCodes.Status201Created).ProducesProblems(400);
        app.MapPost("/api/campaigns/audience-preview", Preview).WithName("PreviewCampaignAudience").WithTags("Campaigns")
            .Produces<AudienceCount>().ProducesProblems(400);
        app.MapGet("/api/campaigns/{id}", Get).WithName("GetCampaign").WithTags("Campaigns")
            .Produces<Campaign>().ProducesProblems(404);
        app.MapPatch("/api/campaigns/{id}", Update).WithName("UpdateCampaign").WithTags("Campaigns")
            .Accepts<CampaignPatch>("application/json", "application/merge-patch+json")
            .Produces<Campaign>().ProducesProblems(400, 404, 409, 412);
        app.MapDelete("/api/campaigns/{id}", Delete).WithName("DeleteCampaign").WithTags("Campaigns")
            .Produces(StatusCodes.Status204NoContent).ProducesProblems(404, 409);
        app.MapPost("/api/campaigns/{id}/transitions", Transition).WithName("TransitionCampaign").WithTags("Campaigns")
            .Produces<Campaign>().ProducesProblems(400, 404, 409, 412);
        app.MapGet("/api/campaigns/{id}/audience", Audience).WithName("GetCampaignAudience").WithTags("Campaigns")
            .Produces<CampaignAudience>().ProducesProblems(404);
    }

    private static Task<Page<Campaign>> List(
        WorkspaceAccess access, CampaignService campaigns, string? limit, string? cursor, string? status, CancellationToken cancellationToken) =>
        campaigns.ListAsync(access, status, limit, cursor, cancellationToken);

    private static async Task<IResult> Create(NewCampaign body, WorkspaceAccess access, CampaignService campaigns, HttpContext http, CancellationToken cancellationToken)
    {
        var campaign = await campaigns.CreateAsync(access, body, cancellationToken);
        return Results.Created($"/api/campaigns/{campaign.Id}", http.WithETag(campaign, campaign.Version));
    }

    private static async Task<AudienceCount> Preview(ContactFilter body, WorkspaceAccess access, ContactService contacts, CancellationToken cancellationToken) =>
        new(await contacts.CountAsync(access, body, cancellationToken));

    private static async Task<Campaign> Get(string id, WorkspaceAccess access, CampaignService campaigns, HttpContext http, CancellationToken cancellationToken)
    {
        var campaign = await campaigns.GetAsync(access, ParseId(id, CampaignService.NotFound), cancellationToken);
        return http.WithETag(campaign, campaign.Version);
    }

    private static async Task<Campaign> Update(string id, CampaignPatch body, WorkspaceAccess access, CampaignService campaigns, HttpContext http, CancellationToken cancellationToken)
    {
        var campaign = await campaigns.UpdateAsync(access, ParseId(id, CampaignService.NotFound), body, IfMatchOf(http), cancellationToken);
        return http.WithETag(campaign, campaign.Version);
    }

    private static async Task<IResult> Delete(string id, WorkspaceAccess access, CampaignService campaigns, CancellationToken cancellationToken)
    {
        await campaigns.DeleteAsync(access, ParseId(id, CampaignService.NotFound), cancellationToken);
        return Results.NoContent();
    }

    private static async Task<Campaign> Transition(
        string id, CampaignTransition body, WorkspaceAccess access, CampaignService campaigns, HttpContext http, CancellationToken cancellationToken)
    {
        var campaign = await campaigns.TransitionAsync(access, ParseId(id, CampaignService.NotFound), body, IfMatchOf(http), cancellationToken);
        return http.WithETag(campaign, campaign.Version);
    }

    private static Task<CampaignAudience> Audience(string id, WorkspaceAccess access, CampaignService campaigns, CancellationToken cancellationToken) =>
        campaigns.AudienceAsync(access, ParseId(id, CampaignService.NotFound), cancellationToken);
}
