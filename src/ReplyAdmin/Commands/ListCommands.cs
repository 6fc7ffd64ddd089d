using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Commands
{
    /// <summary>A list's reply-handling setting, as Get-ReplyListHandling shows it.</summary>
    public sealed class ReplyListHandling
    {
        /// <summary>List name.</summary>
        public string Name { get; set; }
        /// <summary>List address.</summary>
        public string Address { get; set; }
        /// <summary>Store, or forward and store.</summary>
        public ReplyAction Action { get; set; }
        /// <summary>Include or exclude auto-generated replies.</summary>
        public AutoReplyHandling AutoReplies { get; set; }
        /// <summary>Forward addresses.</summary>
        public string[] ForwardTo { get; set; }
        /// <summary>The setting in the words of the original requirement.</summary>
        public string Setting { get; set; }
        /// <summary>What scan verdicts do to the list's replies (the defaults when none is set).</summary>
        public Engine.Scanning.ScanPolicy ScanPolicy { get; set; }

        internal static ReplyListHandling From(ReplyList list) => new ReplyListHandling
        {
            Name = list.Name,
            Address = list.Address,
            Action = list.Action,
            AutoReplies = list.AutoReplies,
            ForwardTo = list.ForwardTo.ToArray(),
            Setting = (list.Action == ReplyAction.StoreInImap ? "Store in IMAP" : "Forward to address and store in IMAP")
                + (list.AutoReplies == AutoReplyHandling.Include ? " (including auto-generated replies)" : " (without auto-generated replies)"),
            ScanPolicy = list.ScanPolicy?.Clone() ?? Engine.Scanning.ScanPolicy.Default,
        };
    }

    /// <summary>Shared by the cmdlets that change one existing list.</summary>
    public abstract class ListChangeCmdlet : ReplyAdminCmdlet
    {
        /// <summary>The list to change.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ListNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>Output the changed object.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>Runs one named change of the engine's <see cref="ListSettings"/> on the named list, after ShouldProcess.</summary>
        protected ReplyList ChangeList(string action, Func<ListSettings, ReplyList> change)
        {
            if (!ShouldProcess($"list '{Name}' in {ResolvedConfigPath}", action))
                return null;
            try
            {
                return change(new ListSettings(Store));
            }
            catch (ReplyAdminException e)
            {
                WriteEngineError(e); // one bad item in a pipeline stops nothing else
                return null;
            }
        }
    }

    /// <summary>
    /// Adds a mailing list whose replies ReplyAdmin handles.
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "ReplyList", SupportsShouldProcess = true)]
    [OutputType(typeof(ReplyList))]
    public sealed class AddReplyListCommand : ReplyAdminCmdlet
    {
        /// <summary>Short name of the list.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>The list's reply address.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Address { get; set; }

        /// <summary>Store, or forward and store.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public ReplyAction Action { get; set; } = ReplyAction.StoreInImap;

        /// <summary>Include or exclude auto-generated replies.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public AutoReplyHandling AutoReplies { get; set; } = AutoReplyHandling.Include;

        /// <summary>Forward addresses (needed with ForwardAndStoreInImap).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string[] ForwardTo { get; set; }

        /// <summary>Free text.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string Description { get; set; }

        /// <summary>Output the new list.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (!ShouldProcess($"list '{Name}' <{Address}> in {ResolvedConfigPath}", "Add list"))
                return;
            ReplyList list;
            try
            {
                list = new ListSettings(Store).Add(new ReplyList
                {
                    Name = Name,
                    Address = Address,
                    Action = Action,
                    AutoReplies = AutoReplies,
                    ForwardTo = (ForwardTo ?? new string[0]).ToList(),
                    Description = Description,
                });
            }
            catch (ReplyAdminException e)
            {
                WriteEngineError(e); // one bad list in a pipeline of many stops nothing else
                return;
            }
            WriteVerbose($"Added list '{Name}' <{Address}> ({ReplyListHandling.From(list).Setting}) to {ResolvedConfigPath}.");
            if (PassThru) WriteObject(list);
        }
    }

    /// <summary>
    /// Gets the configured mailing lists.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyList")]
    [OutputType(typeof(ReplyList))]
    public sealed class GetReplyListCommand : ReplyAdminCmdlet
    {
        /// <summary>List names; wildcards allowed.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ListNameCompleter))]
        [SupportsWildcards]
        public string[] Name { get; set; }

        /// <summary>Find the list that owns this address (sub-addresses such as list+tag@ match too).</summary>
        [Parameter]
        public string Address { get; set; }

        private ReplyAdminConfiguration _configuration;

        /// <inheritdoc />
        protected override void BeginProcessing() => _configuration = LoadConfiguration();

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            foreach (var list in Select(_configuration, Name, this))
            {
                if (Address != null && !Engine.Processing.ListResolver.Matches(list.Address, Address))
                    continue;
                WriteObject(list.Clone());
            }
        }

        /// <summary>The lists matching <paramref name="names"/>; a name without wildcards that matches nothing is an error.</summary>
        internal static IEnumerable<ReplyList> Select(ReplyAdminConfiguration configuration, string[] names, ReplyAdminCmdlet cmdlet)
        {
            if (names == null || names.Length == 0)
                return configuration.Lists.OrderBy(l => l.Name, StringComparer.OrdinalIgnoreCase);
            var selected = new List<ReplyList>();
            foreach (var name in names)
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                var matches = configuration.Lists.Where(l => pattern.IsMatch(l.Name)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    cmdlet.WriteError(ToErrorRecord(ListSettings.NotFound(name, cmdlet.ResolvedConfigPath)));
                selected.AddRange(matches.Where(m => !selected.Contains(m)));
            }
            return selected;
        }
    }

    /// <summary>
    /// Changes a list's address, description or forward mode.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ReplyList", SupportsShouldProcess = true)]
    [OutputType(typeof(ReplyList))]
    public sealed class SetReplyListCommand : ListChangeCmdlet
    {
        /// <summary>The new reply address.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Address { get; set; }

        /// <summary>The new description.</summary>
        [Parameter]
        public string Description { get; set; }

        /// <summary>How forwards leave: Auto (default), Rewrite, Wrap or Unchanged.</summary>
        [Parameter]
        public Engine.SenderAuthentication.ForwardMode ForwardMode { get; set; }

        /// <summary>Forward replies whose sender's domain asks reject/quarantine although nothing aligned passed (-ForwardUnauthenticated:$false to stop).</summary>
        [Parameter]
        public SwitchParameter ForwardUnauthenticated { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var bound = MyInvocation.BoundParameters;
            var list = ChangeList("Set list address/description/forwarding",
                lists => lists.Set(Name, Address, bound.ContainsKey(nameof(Description)), Description,
                    bound.ContainsKey(nameof(ForwardMode)) ? ForwardMode : (Engine.SenderAuthentication.ForwardMode?)null,
                    bound.ContainsKey(nameof(ForwardUnauthenticated)) ? ForwardUnauthenticated.IsPresent : (bool?)null));
            if (list != null && PassThru) WriteObject(list);
        }
    }

    /// <summary>
    /// Removes a mailing list from the configuration.
    /// </summary>
    // Removal asks by default through ShouldContinue (answered by -Force), so -Force never has to touch the caller's
    // $ConfirmPreference; -WhatIf and -Confirm work through ShouldProcess as everywhere.
    [Cmdlet(VerbsCommon.Remove, "ReplyList", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class RemoveReplyListCommand : ReplyAdminCmdlet
    {
        /// <summary>The list to remove.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ListNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        /// <summary>Remove without asking for confirmation.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (!ShouldProcess($"list '{Name}' in {ResolvedConfigPath}", "Remove list"))
                return;
            if (!Force && !ShouldContinue($"Remove the list '{Name}' from {ResolvedConfigPath}? Replies already stored stay in the IMAP folder.", "Remove list"))
                return;
            try
            {
                new ListSettings(Store).Remove(Name);
                WriteVerbose($"Removed list '{Name}' from {ResolvedConfigPath}. Its replies already stored stay in the IMAP folder.");
            }
            catch (ReplyAdminException e)
            {
                WriteEngineError(e);
            }
        }
    }

    /// <summary>
    /// Gets the reply-handling setting of lists.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyListHandling")]
    [OutputType(typeof(ReplyListHandling))]
    [Alias("Get-ListReplyHandling")] // the name the product was specified with
    public sealed class GetReplyListHandlingCommand : ReplyAdminCmdlet
    {
        /// <summary>List names; wildcards allowed.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ListNameCompleter))]
        [SupportsWildcards]
        public string[] Name { get; set; }

        private ReplyAdminConfiguration _configuration;

        /// <inheritdoc />
        protected override void BeginProcessing() => _configuration = LoadConfiguration();

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            foreach (var list in GetReplyListCommand.Select(_configuration, Name, this))
                WriteObject(ReplyListHandling.From(list));
        }
    }

    /// <summary>
    /// Sets how replies to a list are handled: store, or forward and store; with or without auto-generated replies.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ReplyListHandling", SupportsShouldProcess = true)]
    [OutputType(typeof(ReplyListHandling))]
    [Alias("Set-ListReplyHandling")] // the name the product was specified with
    public sealed class SetReplyListHandlingCommand : ListChangeCmdlet
    {
        /// <summary>Store, or forward and store.</summary>
        [Parameter]
        public ReplyAction Action { get; set; }

        /// <summary>Include or exclude auto-generated replies.</summary>
        [Parameter]
        public AutoReplyHandling AutoReplies { get; set; }

        /// <summary>Forward addresses; replaces the current ones.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public string[] ForwardTo { get; set; }

        /// <summary>When a scanner cannot scan: FailClosed (keep at the source, retry) or FailOpen (store unscanned).</summary>
        [Parameter]
        public Engine.Scanning.ScanFailureMode OnScannerFailure { get; set; }

        /// <summary>Forward replies the scanner marks as suspected spam or phishing (never rejected spam or viruses).</summary>
        [Parameter]
        public SwitchParameter ForwardSuspectedSpam { get; set; }

        /// <summary>Prepend X-Spam-Flag/X-Spam-Status to stored replies, for mail clients that ignore keywords.</summary>
        [Parameter]
        public SwitchParameter AddSpamHeaders { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var bound = MyInvocation.BoundParameters;
            var list = ChangeList("Set reply handling", lists => lists.SetHandling(Name,
                bound.ContainsKey(nameof(Action)) ? Action : (ReplyAction?)null,
                bound.ContainsKey(nameof(AutoReplies)) ? AutoReplies : (AutoReplyHandling?)null,
                bound.ContainsKey(nameof(ForwardTo)) ? ForwardTo ?? new string[0] : null,
                bound.ContainsKey(nameof(OnScannerFailure)) ? OnScannerFailure : (Engine.Scanning.ScanFailureMode?)null,
                bound.ContainsKey(nameof(ForwardSuspectedSpam)) ? ForwardSuspectedSpam.IsPresent : (bool?)null,
                bound.ContainsKey(nameof(AddSpamHeaders)) ? AddSpamHeaders.IsPresent : (bool?)null));
            if (list == null) return;
            var handling = ReplyListHandling.From(list);
            WriteVerbose($"List '{list.Name}': {handling.Setting}" + (list.ForwardTo.Count > 0 ? $", forwarding to {string.Join(", ", list.ForwardTo)}." : "."));
            if (PassThru) WriteObject(handling);
        }
    }
}
