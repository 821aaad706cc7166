/* eslint-disable eslint-comments/disable-enable-pair */
/* eslint-disable eslint-comments/no-unlimited-disable */
/* eslint-disable */
import type * as AdminTypes from './admin.types.js';

export type CatalogRunImagesQueryVariables = AdminTypes.Exact<{ [key: string]: never; }>;


export type CatalogRunImagesQuery = { products: { edges: Array<{ node: (
        Pick<AdminTypes.Product, 'id' | 'title' | 'handle'>
        & { media: { edges: Array<{ node: Pick<AdminTypes.ExternalVideo, 'id' | 'mediaContentType'> | (
              Pick<AdminTypes.MediaImage, 'alt' | 'mimeType' | 'status' | 'id' | 'mediaContentType'>
              & { image?: AdminTypes.Maybe<Pick<AdminTypes.Image, 'url'>> }
            ) | Pick<AdminTypes.Model3d, 'id' | 'mediaContentType'> | Pick<AdminTypes.Video, 'id' | 'mediaContentType'> }> } }
      ) }> } };

export type CatalogRunBulkQueryMutationVariables = AdminTypes.Exact<{
  query: AdminTypes.Scalars['String']['input'];
}>;


export type CatalogRunBulkQueryMutation = { bulkOperationRunQuery?: AdminTypes.Maybe<{ bulkOperation?: AdminTypes.Maybe<Pick<AdminTypes.BulkOperation, 'id' | 'status'>>, userErrors: Array<Pick<AdminTypes.BulkOperationUserError, 'field' | 'message' | 'code'>> }> };

export type CatalogRunBulkOperationQueryVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
}>;


export type CatalogRunBulkOperationQuery = { bulkOperation?: AdminTypes.Maybe<Pick<AdminTypes.BulkOperation, 'id' | 'status' | 'errorCode' | 'objectCount' | 'url'>> };

export type CatalogRunBulkCancelMutationVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
}>;


export type CatalogRunBulkCancelMutation = { bulkOperationCancel?: AdminTypes.Maybe<{ bulkOperation?: AdminTypes.Maybe<Pick<AdminTypes.BulkOperation, 'id' | 'status'>>, userErrors: Array<Pick<AdminTypes.UserError, 'field' | 'message'>> }> };

export type CatalogRunCollectionsQueryVariables = AdminTypes.Exact<{
  first: AdminTypes.Scalars['Int']['input'];
}>;


export type CatalogRunCollectionsQuery = { collections: { nodes: Array<(
      Pick<AdminTypes.Collection, 'id' | 'title'>
      & { productsCount?: AdminTypes.Maybe<Pick<AdminTypes.Count, 'count'>> }
    )> } };

export type CatalogRunCollectionQueryVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
}>;


export type CatalogRunCollectionQuery = { collection?: AdminTypes.Maybe<Pick<AdminTypes.Collection, 'id' | 'title'>> };

export type CatalogMediaImageFragment = (
  Pick<AdminTypes.MediaImage, 'id' | 'alt' | 'status' | 'mimeType'>
  & { image?: AdminTypes.Maybe<Pick<AdminTypes.Image, 'url' | 'altText' | 'width' | 'height'>> }
);

export type CatalogProductWithImagesFragment = (
  Pick<AdminTypes.Product, 'id' | 'title' | 'handle'>
  & { media: { nodes: Array<Pick<AdminTypes.ExternalVideo, 'mediaContentType'> | (
      Pick<AdminTypes.MediaImage, 'mediaContentType' | 'id' | 'alt' | 'status' | 'mimeType'>
      & { image?: AdminTypes.Maybe<Pick<AdminTypes.Image, 'url' | 'altText' | 'width' | 'height'>> }
    ) | Pick<AdminTypes.Model3d, 'mediaContentType'> | Pick<AdminTypes.Video, 'mediaContentType'>> } }
);

export type CatalogProductImagesQueryVariables = AdminTypes.Exact<{
  first: AdminTypes.Scalars['Int']['input'];
  after?: AdminTypes.InputMaybe<AdminTypes.Scalars['String']['input']>;
  query?: AdminTypes.InputMaybe<AdminTypes.Scalars['String']['input']>;
  mediaFirst: AdminTypes.Scalars['Int']['input'];
}>;


export type CatalogProductImagesQuery = { products: { pageInfo: Pick<AdminTypes.PageInfo, 'hasNextPage' | 'endCursor'>, nodes: Array<(
      Pick<AdminTypes.Product, 'id' | 'title' | 'handle'>
      & { media: { nodes: Array<Pick<AdminTypes.ExternalVideo, 'mediaContentType'> | (
          Pick<AdminTypes.MediaImage, 'mediaContentType' | 'id' | 'alt' | 'status' | 'mimeType'>
          & { image?: AdminTypes.Maybe<Pick<AdminTypes.Image, 'url' | 'altText' | 'width' | 'height'>> }
        ) | Pick<AdminTypes.Model3d, 'mediaContentType'> | Pick<AdminTypes.Video, 'mediaContentType'>> } }
    )> } };

export type CatalogProductMediaIdsQueryVariables = AdminTypes.Exact<{
  ids: Array<AdminTypes.Scalars['ID']['input']> | AdminTypes.Scalars['ID']['input'];
  mediaFirst: AdminTypes.Scalars['Int']['input'];
}>;


export type CatalogProductMediaIdsQuery = { nodes: Array<AdminTypes.Maybe<(
    Pick<AdminTypes.Product, 'id' | 'title' | 'handle'>
    & { media: { nodes: Array<Pick<AdminTypes.ExternalVideo, 'id' | 'mediaContentType'> | Pick<AdminTypes.MediaImage, 'id' | 'mediaContentType'> | Pick<AdminTypes.Model3d, 'id' | 'mediaContentType'> | Pick<AdminTypes.Video, 'id' | 'mediaContentType'>>, pageInfo: Pick<AdminTypes.PageInfo, 'hasNextPage'> } }
  )>> };

export type CatalogMediaByIdQueryVariables = AdminTypes.Exact<{
  ids: Array<AdminTypes.Scalars['ID']['input']> | AdminTypes.Scalars['ID']['input'];
}>;


export type CatalogMediaByIdQuery = { nodes: Array<AdminTypes.Maybe<(
    Pick<AdminTypes.MediaImage, 'id' | 'alt' | 'status' | 'mimeType'>
    & { image?: AdminTypes.Maybe<Pick<AdminTypes.Image, 'url' | 'altText' | 'width' | 'height'>> }
  )>> };

export type CatalogMediaImageStateQueryVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
}>;


export type CatalogMediaImageStateQuery = { node?: AdminTypes.Maybe<(
    Pick<AdminTypes.MediaImage, 'id' | 'alt' | 'fileStatus' | 'mimeType'>
    & { image?: AdminTypes.Maybe<Pick<AdminTypes.Image, 'url' | 'width' | 'height'>>, fileErrors: Array<Pick<AdminTypes.FileError, 'code' | 'message' | 'details'>> }
  )> };

export type CatalogBackupFileCreateMutationVariables = AdminTypes.Exact<{
  files: Array<AdminTypes.FileCreateInput> | AdminTypes.FileCreateInput;
}>;


export type CatalogBackupFileCreateMutation = { fileCreate?: AdminTypes.Maybe<{ files?: AdminTypes.Maybe<Array<Pick<AdminTypes.ExternalVideo, 'id' | 'fileStatus'> | Pick<AdminTypes.GenericFile, 'id' | 'fileStatus'> | Pick<AdminTypes.MediaImage, 'id' | 'fileStatus'> | Pick<AdminTypes.Model3d, 'id' | 'fileStatus'> | Pick<AdminTypes.Video, 'id' | 'fileStatus'>>>, userErrors: Array<Pick<AdminTypes.FilesUserError, 'field' | 'message' | 'code'>> }> };

export type CatalogStagedUploadsCreateMutationVariables = AdminTypes.Exact<{
  input: Array<AdminTypes.StagedUploadInput> | AdminTypes.StagedUploadInput;
}>;


export type CatalogStagedUploadsCreateMutation = { stagedUploadsCreate?: AdminTypes.Maybe<{ stagedTargets?: AdminTypes.Maybe<Array<(
      Pick<AdminTypes.StagedMediaUploadTarget, 'url' | 'resourceUrl'>
      & { parameters: Array<Pick<AdminTypes.StagedUploadParameter, 'name' | 'value'>> }
    )>>, userErrors: Array<Pick<AdminTypes.UserError, 'field' | 'message'>> }> };

export type CatalogReplaceMediaImageMutationVariables = AdminTypes.Exact<{
  files: Array<AdminTypes.FileUpdateInput> | AdminTypes.FileUpdateInput;
}>;


export type CatalogReplaceMediaImageMutation = { fileUpdate?: AdminTypes.Maybe<{ files?: AdminTypes.Maybe<Array<Pick<AdminTypes.ExternalVideo, 'id' | 'fileStatus'> | Pick<AdminTypes.GenericFile, 'id' | 'fileStatus'> | Pick<AdminTypes.MediaImage, 'id' | 'fileStatus'> | Pick<AdminTypes.Model3d, 'id' | 'fileStatus'> | Pick<AdminTypes.Video, 'id' | 'fileStatus'>>>, userErrors: Array<Pick<AdminTypes.FilesUserError, 'field' | 'message' | 'code'>> }> };

export type CatalogShopLocalesQueryVariables = AdminTypes.Exact<{ [key: string]: never; }>;


export type CatalogShopLocalesQuery = { shopLocales: Array<Pick<AdminTypes.ShopLocale, 'locale' | 'primary'>> };

export type CatalogAcknowledgeUpdateFailedMutationVariables = AdminTypes.Exact<{
  fileIds: Array<AdminTypes.Scalars['ID']['input']> | AdminTypes.Scalars['ID']['input'];
}>;


export type CatalogAcknowledgeUpdateFailedMutation = { fileAcknowledgeUpdateFailed?: AdminTypes.Maybe<{ files?: AdminTypes.Maybe<Array<Pick<AdminTypes.ExternalVideo, 'id' | 'fileStatus'> | Pick<AdminTypes.GenericFile, 'id' | 'fileStatus'> | Pick<AdminTypes.MediaImage, 'id' | 'fileStatus'> | Pick<AdminTypes.Model3d, 'id' | 'fileStatus'> | Pick<AdminTypes.Video, 'id' | 'fileStatus'>>>, userErrors: Array<Pick<AdminTypes.FilesUserError, 'field' | 'message' | 'code'>> }> };

export type ShopAvailabilityQueryVariables = AdminTypes.Exact<{ [key: string]: never; }>;


export type ShopAvailabilityQuery = { shop: Pick<AdminTypes.Shop, 'id'> };

export type CreditPackPurchaseCreateMutationVariables = AdminTypes.Exact<{
  name: AdminTypes.Scalars['String']['input'];
  price: AdminTypes.MoneyInput;
  returnUrl: AdminTypes.Scalars['URL']['input'];
  test?: AdminTypes.InputMaybe<AdminTypes.Scalars['Boolean']['input']>;
}>;


export type CreditPackPurchaseCreateMutation = { appPurchaseOneTimeCreate?: AdminTypes.Maybe<(
    Pick<AdminTypes.AppPurchaseOneTimeCreatePayload, 'confirmationUrl'>
    & { appPurchaseOneTime?: AdminTypes.Maybe<Pick<AdminTypes.AppPurchaseOneTime, 'id' | 'name' | 'status' | 'test'>>, userErrors: Array<Pick<AdminTypes.UserError, 'field' | 'message'>> }
  )> };

export type CreditPackPurchaseQueryVariables = AdminTypes.Exact<{
  id: AdminTypes.Scalars['ID']['input'];
}>;


export type CreditPackPurchaseQuery = { node?: AdminTypes.Maybe<(
    Pick<AdminTypes.AppPurchaseOneTime, 'id' | 'name' | 'status' | 'test' | 'createdAt'>
    & { price: Pick<AdminTypes.MoneyV2, 'amount' | 'currencyCode'> }
  )> };

export type ShopPlanForBillingQueryVariables = AdminTypes.Exact<{ [key: string]: never; }>;


export type ShopPlanForBillingQuery = { shop: { plan: Pick<AdminTypes.ShopPlan, 'partnerDevelopment'> } };

export type ExtensionSelectedProductImagesQueryVariables = AdminTypes.Exact<{
  ids: Array<AdminTypes.Scalars['ID']['input']> | AdminTypes.Scalars['ID']['input'];
  mediaFirst: AdminTypes.Scalars['Int']['input'];
}>;


export type ExtensionSelectedProductImagesQuery = { nodes: Array<AdminTypes.Maybe<(
    Pick<AdminTypes.Product, 'id'>
    & { media: { nodes: Array<Pick<AdminTypes.ExternalVideo, 'mediaContentType'> | Pick<AdminTypes.MediaImage, 'mediaContentType'> | Pick<AdminTypes.Model3d, 'mediaContentType'> | Pick<AdminTypes.Video, 'mediaContentType'>> } }
  )>> };

interface GeneratedQueryTypes {
  "#graphql\n  query CatalogRunImages {\n    products(query: \"\") {\n      edges {\n        node {\n          id\n          title\n          handle\n          media {\n            edges {\n              node {\n                id\n                mediaContentType\n                ... on MediaImage { alt mimeType status image { url } }\n              }\n            }\n          }\n        }\n      }\n    }\n  }": {return: CatalogRunImagesQuery, variables: CatalogRunImagesQueryVariables},
  "#graphql\n  query CatalogRunBulkOperation($id: ID!) {\n    bulkOperation(id: $id) { id status errorCode objectCount url }\n  }": {return: CatalogRunBulkOperationQuery, variables: CatalogRunBulkOperationQueryVariables},
  "#graphql\n  query CatalogRunCollections($first: Int!) {\n    collections(first: $first, sortKey: TITLE) {\n      nodes { id title productsCount { count } }\n    }\n  }": {return: CatalogRunCollectionsQuery, variables: CatalogRunCollectionsQueryVariables},
  "#graphql\n  query CatalogRunCollection($id: ID!) {\n    collection(id: $id) { id title }\n  }": {return: CatalogRunCollectionQuery, variables: CatalogRunCollectionQueryVariables},
  "#graphql\n  query CatalogProductImages($first: Int!, $after: String, $query: String, $mediaFirst: Int!) {\n    products(first: $first, after: $after, query: $query, sortKey: TITLE) {\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        ...CatalogProductWithImages\n      }\n    }\n  }\n  #graphql\n  fragment CatalogProductWithImages on Product {\n    id\n    title\n    handle\n    media(first: $mediaFirst) {\n      nodes {\n        mediaContentType\n        ...CatalogMediaImage\n      }\n    }\n  }\n  #graphql\n  fragment CatalogMediaImage on MediaImage {\n    id\n    alt\n    status\n    mimeType\n    image { url altText width height }\n  }\n\n\n": {return: CatalogProductImagesQuery, variables: CatalogProductImagesQueryVariables},
  "#graphql\n  query CatalogProductMediaIds($ids: [ID!]!, $mediaFirst: Int!) {\n    nodes(ids: $ids) {\n      ... on Product {\n        id\n        title\n        handle\n        media(first: $mediaFirst) {\n          nodes { id mediaContentType }\n          pageInfo { hasNextPage }\n        }\n      }\n    }\n  }\n": {return: CatalogProductMediaIdsQuery, variables: CatalogProductMediaIdsQueryVariables},
  "#graphql\n  query CatalogMediaById($ids: [ID!]!) {\n    nodes(ids: $ids) {\n      ...CatalogMediaImage\n    }\n  }\n  #graphql\n  fragment CatalogMediaImage on MediaImage {\n    id\n    alt\n    status\n    mimeType\n    image { url altText width height }\n  }\n\n": {return: CatalogMediaByIdQuery, variables: CatalogMediaByIdQueryVariables},
  "#graphql\n  query CatalogMediaImageState($id: ID!) {\n    node(id: $id) {\n      ... on MediaImage {\n        id\n        alt\n        fileStatus\n        mimeType\n        image { url width height }\n        fileErrors { code message details }\n      }\n    }\n  }\n": {return: CatalogMediaImageStateQuery, variables: CatalogMediaImageStateQueryVariables},
  "#graphql\n  query CatalogShopLocales {\n    shopLocales(published: true) { locale primary }\n  }\n": {return: CatalogShopLocalesQuery, variables: CatalogShopLocalesQueryVariables},
  "#graphql\n  query ShopAvailability {\n    shop { id }\n  }\n": {return: ShopAvailabilityQuery, variables: ShopAvailabilityQueryVariables},
  "#graphql\n  query CreditPackPurchase($id: ID!) {\n    node(id: $id) {\n      ... on AppPurchaseOneTime { id name status test price { amount currencyCode } createdAt }\n    }\n  }": {return: CreditPackPurchaseQuery, variables: CreditPackPurchaseQueryVariables},
  "#graphql\n  query ShopPlanForBilling {\n    shop { plan { partnerDevelopment } }\n  }": {return: ShopPlanForBillingQuery, variables: ShopPlanForBillingQueryVariables},
  "#graphql\n  query ExtensionSelectedProductImages($ids: [ID!]!, $mediaFirst: Int!) {\n    nodes(ids: $ids) {\n      ... on Product {\n        id\n        media(first: $mediaFirst) {\n          nodes {\n            mediaContentType\n          }\n        }\n      }\n    }\n  }\n": {return: ExtensionSelectedProductImagesQuery, variables: ExtensionSelectedProductImagesQueryVariables},
}

interface GeneratedMutationTypes {
  "#graphql\n  mutation CatalogRunBulkQuery($query: String!) {\n    bulkOperationRunQuery(query: $query, groupObjects: false) {\n      bulkOperation { id status }\n      userErrors { field message code }\n    }\n  }": {return: CatalogRunBulkQueryMutation, variables: CatalogRunBulkQueryMutationVariables},
  "#graphql\n  mutation CatalogRunBulkCancel($id: ID!) {\n    bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } }\n  }": {return: CatalogRunBulkCancelMutation, variables: CatalogRunBulkCancelMutationVariables},
  "#graphql\n  mutation CatalogBackupFileCreate($files: [FileCreateInput!]!) {\n    fileCreate(files: $files) {\n      files { id fileStatus }\n      userErrors { field message code }\n    }\n  }\n": {return: CatalogBackupFileCreateMutation, variables: CatalogBackupFileCreateMutationVariables},
  "#graphql\n  mutation CatalogStagedUploadsCreate($input: [StagedUploadInput!]!) {\n    stagedUploadsCreate(input: $input) {\n      stagedTargets { url resourceUrl parameters { name value } }\n      userErrors { field message }\n    }\n  }\n": {return: CatalogStagedUploadsCreateMutation, variables: CatalogStagedUploadsCreateMutationVariables},
  "#graphql\n  mutation CatalogReplaceMediaImage($files: [FileUpdateInput!]!) {\n    fileUpdate(files: $files) {\n      files { id fileStatus }\n      userErrors { field message code }\n    }\n  }\n": {return: CatalogReplaceMediaImageMutation, variables: CatalogReplaceMediaImageMutationVariables},
  "#graphql\n  mutation CatalogAcknowledgeUpdateFailed($fileIds: [ID!]!) {\n    fileAcknowledgeUpdateFailed(fileIds: $fileIds) {\n      files { id fileStatus }\n      userErrors { field message code }\n    }\n  }\n": {return: CatalogAcknowledgeUpdateFailedMutation, variables: CatalogAcknowledgeUpdateFailedMutationVariables},
  "#graphql\n  mutation CreditPackPurchaseCreate($name: String!, $price: MoneyInput!, $returnUrl: URL!, $test: Boolean) {\n    appPurchaseOneTimeCreate(name: $name, price: $price, returnUrl: $returnUrl, test: $test) {\n      appPurchaseOneTime { id name status test }\n      confirmationUrl\n      userErrors { field message }\n    }\n  }": {return: CreditPackPurchaseCreateMutation, variables: CreditPackPurchaseCreateMutationVariables},
}
declare module '@shopify/admin-api-client' {
  type InputMaybe<T> = AdminTypes.InputMaybe<T>;
  interface AdminQueries extends GeneratedQueryTypes {}
  interface AdminMutations extends GeneratedMutationTypes {}
}
