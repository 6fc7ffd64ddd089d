namespace ReplyAdmin.Engine
{
    /// <summary>
    /// Every error id the module reports, in one place: stable PascalCase <c>&lt;Noun&gt;&lt;Problem&gt;</c> names that
    /// scripts match on (<c>$_.FullyQualifiedErrorId</c>) and that never change between versions. Grouped by noun.
    /// </summary>
    public static class ErrorIds
    {
#pragma warning disable CS1591 // the name is the documentation; docs/help says what each means where it is raised
        public const string AutoReplyHandlingInvalid = nameof(AutoReplyHandlingInvalid);

        public const string CertificateThumbprintInvalid = nameof(CertificateThumbprintInvalid);

        public const string ConfigurationFileInvalid = nameof(ConfigurationFileInvalid);
        public const string ConfigurationLocked = nameof(ConfigurationLocked);
        public const string ConfigurationSchemaUnsupported = nameof(ConfigurationSchemaUnsupported);
        public const string ConfigurationUnreadable = nameof(ConfigurationUnreadable);
        public const string ConfigurationWriteFailed = nameof(ConfigurationWriteFailed);

        public const string CredentialFileTooOpen = nameof(CredentialFileTooOpen);
        public const string CredentialFileUnreadable = nameof(CredentialFileUnreadable);
        public const string CredentialNotFound = nameof(CredentialNotFound);
        public const string CredentialReferenceInvalid = nameof(CredentialReferenceInvalid);
        public const string CredentialReferenceMissing = nameof(CredentialReferenceMissing);
        public const string CredentialStoreUnavailable = nameof(CredentialStoreUnavailable);

        public const string FolderNameInvalid = nameof(FolderNameInvalid);

        public const string ForwardAddressDuplicate = nameof(ForwardAddressDuplicate);
        public const string ForwardAddressLoop = nameof(ForwardAddressLoop);
        public const string ForwardAddressRequired = nameof(ForwardAddressRequired);

        public const string HostInvalid = nameof(HostInvalid);

        public const string ImapAuthenticationFailed = nameof(ImapAuthenticationFailed);
        public const string ImapCertificateUntrusted = nameof(ImapCertificateUntrusted);
        public const string ImapCommandFailed = nameof(ImapCommandFailed);
        public const string ImapConnectFailed = nameof(ImapConnectFailed);
        public const string ImapConnectTimeout = nameof(ImapConnectTimeout);
        public const string ImapConnectionLost = nameof(ImapConnectionLost);
        public const string ImapFolderNotFound = nameof(ImapFolderNotFound);
        public const string ImapFolderNotSelectable = nameof(ImapFolderNotSelectable);
        public const string ImapFolderReadOnly = nameof(ImapFolderReadOnly);
        public const string ImapHostNotFound = nameof(ImapHostNotFound);
        public const string ImapPlaintextRefused = nameof(ImapPlaintextRefused);
        public const string ImapProtocolError = nameof(ImapProtocolError);
        public const string ImapTlsFailed = nameof(ImapTlsFailed);

        public const string JournalUnwritable = nameof(JournalUnwritable);

        public const string LeaseConfigurationInvalid = nameof(LeaseConfigurationInvalid);
        public const string LeaseHeld = nameof(LeaseHeld);
        public const string LeaseLost = nameof(LeaseLost);
        public const string LeaseUnavailable = nameof(LeaseUnavailable);


        public const string ListAddressDuplicate = nameof(ListAddressDuplicate);
        public const string ListNameDuplicate = nameof(ListNameDuplicate);
        public const string ListNameInvalid = nameof(ListNameInvalid);
        public const string ListNotFound = nameof(ListNotFound);

        public const string MaxMessageSizeOutOfRange = nameof(MaxMessageSizeOutOfRange);

        public const string MessageFileNotFound = nameof(MessageFileNotFound);
        public const string MessageProcessingFailed = nameof(MessageProcessingFailed);
        public const string MessageUnreadable = nameof(MessageUnreadable);

        public const string OutgoingServerNotConfigured = nameof(OutgoingServerNotConfigured);

        public const string PortOutOfRange = nameof(PortOutOfRange);

        public const string ProcessingAlreadyRunning = nameof(ProcessingAlreadyRunning);

        public const string ProfileExists = nameof(ProfileExists);
        public const string ProfileWriteFailed = nameof(ProfileWriteFailed);

        public const string PwshNotFound = nameof(PwshNotFound);

        public const string ReplyActionInvalid = nameof(ReplyActionInvalid);
        public const string ReplyMailboxNotConfigured = nameof(ReplyMailboxNotConfigured);
        public const string ReplySourceNotConfigured = nameof(ReplySourceNotConfigured);

        public const string ScheduleArgumentInvalid = nameof(ScheduleArgumentInvalid);
        public const string ScheduleEnableFailed = nameof(ScheduleEnableFailed);
        public const string ScheduleIntervalUnsupported = nameof(ScheduleIntervalUnsupported);
        public const string ScheduleNameInvalid = nameof(ScheduleNameInvalid);
        public const string ScheduleRegisterFailed = nameof(ScheduleRegisterFailed);
        public const string ScheduleWriteFailed = nameof(ScheduleWriteFailed);

        public const string ScheduledTasksUnavailable = nameof(ScheduledTasksUnavailable);

        public const string SmtpAuthenticationFailed = nameof(SmtpAuthenticationFailed);
        public const string SmtpCertificateUntrusted = nameof(SmtpCertificateUntrusted);
        public const string SmtpConnectionLost = nameof(SmtpConnectionLost);
        public const string SmtpRelayNotConfigured = nameof(SmtpRelayNotConfigured);
        public const string SmtpRelayUnavailable = nameof(SmtpRelayUnavailable);
        public const string SmtpTlsFailed = nameof(SmtpTlsFailed);
        public const string SmtpTlsRequired = nameof(SmtpTlsRequired);

        public const string SourceKindUnsupported = nameof(SourceKindUnsupported);
        public const string SourceMessageGone = nameof(SourceMessageGone);
        public const string SourceMoveFailed = nameof(SourceMoveFailed);
        public const string SourceNotFound = nameof(SourceNotFound);
        public const string SourceNotWritable = nameof(SourceNotWritable);
        public const string SourcePathInvalid = nameof(SourcePathInvalid);

        public const string UserNameInvalid = nameof(UserNameInvalid);
#pragma warning restore CS1591
    }
}
